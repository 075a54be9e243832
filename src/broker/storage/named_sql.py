"""Loads named SQL from the package's `sql/<dialect>/` files.

A query file holds blocks headed `-- name: <name>`; migration files are named
`NNNN_<what>.sql` and applied in order.
"""

from __future__ import annotations

import re
from importlib import resources

_NAME = re.compile(r"^--\s*name:\s*(\w+)\s*$", re.MULTILINE)


def load_queries(dialect: str) -> dict[str, str]:
    """Every named query of `dialect`, by name."""
    text = resources.files("broker").joinpath("sql", dialect, "queries.sql").read_text()
    parts = _NAME.split(text)
    queries: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        lines = [line for line in body.strip().splitlines() if not line.lstrip().startswith("--")]
        queries[name] = "\n".join(lines).strip().rstrip(";")
    return queries


def load_migrations(dialect: str) -> list[tuple[int, str]]:
    """(version, script) for each migration of `dialect`, oldest first."""
    folder = resources.files("broker").joinpath("sql", dialect)
    found = []
    for entry in folder.iterdir():
        match = re.fullmatch(r"(\d{4})_\w+\.sql", entry.name)
        if match:
            found.append((int(match.group(1)), entry.read_text()))
    return sorted(found)
