"""Opaque AIP-158 page tokens.

A token records the last id returned and a fingerprint of the request's filters, so a
token cannot be replayed against a different query. Tokens are not secrets; tampering
only yields another valid position or INVALID_ARGUMENT.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from broker.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PageRequest:
    """A validated page position: return up to `size` items with id > `after`."""

    size: int
    after: str
    fingerprint: str


def _fingerprint(filters: tuple[object, ...]) -> str:
    return hashlib.sha256(repr(filters).encode()).hexdigest()[:16]


def parse_page(page_size: int, page_token: str, *filters: object) -> PageRequest:
    """Validate page_size and page_token for a list request with these filters."""
    if page_size < 0:
        raise InvalidArgument("page_size", "must not be negative")
    size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    fingerprint = _fingerprint(filters)
    if not page_token:
        return PageRequest(size, "", fingerprint)
    try:
        padded = page_token + "=" * (-len(page_token) % 4)
        decoded = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        after, token_fingerprint = decoded["a"], decoded["f"]
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error):
        raise InvalidArgument("page_token", "is not a token this server issued") from None
    if not isinstance(after, str) or not after:
        raise InvalidArgument("page_token", "is not a token this server issued")
    if token_fingerprint != fingerprint:
        raise InvalidArgument("page_token", "was issued for a request with different filters")
    return PageRequest(size, after, fingerprint)


def cut_page(
    page: PageRequest, rows: Sequence[T], id_of: Callable[[T], str]
) -> tuple[list[T], str]:
    """Split `size + 1` fetched rows into the page and the token for the next one."""
    if len(rows) <= page.size:
        return list(rows), ""
    kept = list(rows[: page.size])
    raw = json.dumps({"a": id_of(kept[-1]), "f": page.fingerprint}, separators=(",", ":"))
    return kept, base64.urlsafe_b64encode(raw.encode()).decode("ascii").rstrip("=")
