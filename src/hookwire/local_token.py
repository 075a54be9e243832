"""Where a local `hookwire serve` keeps the admin token it made at first start: a file
beside its SQLite database, readable by its owner only. The server writes it, the client
commands read it, so the same rule serves both (and neither imports the other)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

SUFFIX = ".admin-token"


def admin_token_file(database_url: str) -> Path | None:
    """`./hookwire.db.admin-token` for `sqlite:///./hookwire.db`; None for databases that
    are not a local file."""
    parts = urlsplit(database_url)
    if parts.scheme != "sqlite":
        return None
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    if not path or path == ":memory:":
        return None
    return Path(path + SUFFIX)
