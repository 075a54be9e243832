"""SQLite's single writer: whole transactions run on one thread that owns the connection.

aiosqlite pays a thread hop per statement; a publish or lease is five to eight
statements, and under load those hops (not SQLite) became the cost. Here a transaction is
one plain function run on the writer thread: one hop, no interleaving, and since there is
one thread, transactions serialize without a lock.

Only publishing needs its commit on disk before it answers (`durable=True`: WAL synced
with synchronous=FULL). Leases and outcomes commit with synchronous=NORMAL: a crash may
forget them, which only means a delivery is attempted again; a later durable commit
syncs them anyway.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from broker.storage.contract import StoreError, StoreRefused
from broker.storage.named_sql import load_migrations

T = TypeVar("T")
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=5000",
    "PRAGMA foreign_keys=OFF",
)


def connect(path: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    for pragma in PRAGMAS:
        conn.execute(pragma)
    return conn


def migrate(conn: sqlite3.Connection) -> None:
    """Apply the migrations newer than the file's `user_version`, each atomically."""
    current = int(conn.execute("PRAGMA user_version").fetchone()[0])
    for version, script in load_migrations("sqlite"):
        if version <= current:
            continue
        try:
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;"
            )
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


class SqliteWriter:
    def __init__(self, path: str) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-writer")
        self._conn: sqlite3.Connection | None = None
        self._durable = False  # synchronous=NORMAL, as `connect` leaves it

    async def open(self) -> None:
        def opening() -> None:
            self._conn = connect(self._path)
            migrate(self._conn)

        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, opening)
        except sqlite3.Error as exc:
            self._executor.shutdown(wait=False)
            raise StoreError(f"cannot open SQLite database: {exc}") from exc

    async def close(self) -> None:
        def closing() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

        await asyncio.get_running_loop().run_in_executor(self._executor, closing)
        self._executor.shutdown(wait=True)

    async def run(
        self, what: str, work: Callable[[sqlite3.Connection], T], *, durable: bool = False
    ) -> T:
        """Run `work` in one `BEGIN IMMEDIATE` transaction on the writer thread."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, self._transact, what, work, durable)
        except RuntimeError as exc:  # the executor was shut down: the store is closed
            raise StoreError(f"{what} failed: the store is closed") from exc

    def _transact(self, what: str, work: Callable[[sqlite3.Connection], T], durable: bool) -> T:
        conn = self._conn
        if conn is None:
            raise StoreError(f"{what} failed: the store is closed")
        try:
            if durable != self._durable:  # switched only when it changes: runs of publishes
                conn.execute("PRAGMA synchronous=FULL" if durable else "PRAGMA synchronous=NORMAL")
                self._durable = durable
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(conn)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            return result
        except _REFUSALS as exc:
            raise StoreRefused(f"{what} failed: {exc.__class__.__name__}") from exc
        except sqlite3.Error as exc:
            raise StoreError(f"{what} failed: {exc.__class__.__name__}") from exc


# Errors of the data a transaction wrote, not of the database: a constraint, a value too
# big, a type that cannot be bound.
_REFUSALS = (
    sqlite3.IntegrityError,
    sqlite3.DataError,
    sqlite3.InterfaceError,
    sqlite3.ProgrammingError,
)
