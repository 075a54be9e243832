"""Multi-row inserts on a real SQLite file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from broker.storage.sqlite_bulk import insert_rows

INSERT = "INSERT INTO t (a, b, c) VALUES (?, ?, 'fixed')"


@pytest.fixture
def conn(tmp_path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(tmp_path / "bulk.db", isolation_level=None)
    conn.execute("CREATE TABLE t (a INTEGER, b BLOB, c TEXT)")
    return conn


@pytest.mark.parametrize("count", [0, 1, 3, 4, 255, 256, 341, 1000])
def test_every_row_is_inserted_once_in_order(conn: sqlite3.Connection, count: int) -> None:
    rows = [(i, bytes([i % 256]) * 3) for i in range(count)]
    insert_rows(conn, INSERT, rows)
    stored = conn.execute("SELECT a, b, c FROM t ORDER BY rowid").fetchall()
    assert stored == [(a, b, "fixed") for a, b in rows]


def test_a_statement_without_one_positional_values_row_is_refused(
    conn: sqlite3.Connection,
) -> None:
    with pytest.raises(ValueError, match="VALUES row"):
        insert_rows(conn, "INSERT INTO t (a, b, c) VALUES (:a, :b, :c)", [(1, b"", "")])
    with pytest.raises(ValueError, match="VALUES row"):
        insert_rows(conn, "INSERT INTO t (a) SELECT 1", [(1,)])
    assert conn.execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_a_failing_chunk_raises_the_database_error(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE UNIQUE INDEX t_a ON t (a)")
    with pytest.raises(sqlite3.IntegrityError):
        insert_rows(conn, INSERT, [(1, b""), (2, b""), (1, b"")])


def test_chunks_stay_within_the_connections_variable_limit(conn: sqlite3.Connection) -> None:
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 20)  # 10 rows of 2 at most
    rows = [(i, b"") for i in range(300)]
    insert_rows(conn, INSERT, rows)
    assert conn.execute("SELECT a FROM t ORDER BY rowid").fetchall() == [(i,) for i, _ in rows]
