"""Multi-row INSERTs on SQLite: one statement for many rows.

`executemany` runs one statement step per row, and Python's sqlite3 releases and retakes
the GIL around every step. For a batch of published events that was about 1.7 µs per row
more than one multi-row statement, on the single writer thread the whole broker waits on.

Statement texts are made from the named query's own VALUES row, repeated a fixed number
of times (256, 64, 16, 4 or 1, as many as the connection's variable limit allows): a
handful of texts per table, so the connection's statement cache always holds them, and no
value is ever spliced into SQL.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

CHUNKS = (256, 64, 16, 4, 1)


@lru_cache(maxsize=16)
def _values_row(statement: str) -> tuple[str, str, int]:
    """(text before VALUES, the VALUES row, placeholders in it)."""
    head, separator, row = statement.rpartition("VALUES")
    if not separator or "?" not in row or ":" in row:
        raise ValueError("a multi-row statement ends in one VALUES row of ? placeholders")
    return head, row.strip(), row.count("?")


@lru_cache(maxsize=64)
def _repeated(statement: str, rows: int) -> str:
    head, row, _ = _values_row(statement)
    return f"{head}VALUES {', '.join([row] * rows)}"


def insert_rows(conn: sqlite3.Connection, statement: str, rows: Sequence[Sequence[Any]]) -> None:
    """Insert `rows` (positional values for `statement`'s VALUES row) in few statements."""
    placeholders = _values_row(statement)[2]
    most = conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // placeholders
    start = 0
    for size in (size for size in CHUNKS if size <= most):
        while len(rows) - start >= size:
            chunk = rows[start : start + size]
            conn.execute(_repeated(statement, size), [v for row in chunk for v in row])
            start += size
