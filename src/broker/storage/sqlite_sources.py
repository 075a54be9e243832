"""The SQLite store's inbound sources: small, rarely written, read once per inbound request."""

from __future__ import annotations

import sqlite3
from typing import Any

from broker.domain import Source
from broker.storage.named_sql import load_queries
from broker.storage.rows import source_from, source_params
from broker.storage.sqlite_writer import SqliteWriter

_Q = load_queries("sqlite")


class SqliteSources:
    """Source methods of `SqliteStore` (mixed in; needs its writer and `_read`)."""

    _writer: SqliteWriter

    async def _read(self, query: str, params: dict[str, Any]) -> list[sqlite3.Row]:
        raise NotImplementedError

    async def create_source(self, source: Source) -> None:
        params = source_params(source)
        await self._writer.run(
            "create source", lambda conn: conn.execute(_Q["insert_source"], params), durable=True
        )

    async def get_source(self, source_id: str) -> Source | None:
        rows = await self._read("get_source", {"id": source_id})
        return source_from(rows[0]) if rows else None

    async def list_sources(self, after: str, limit: int, provider: str) -> list[Source]:
        params = {"after": after, "limit": limit, "provider": provider}
        return [source_from(row) for row in await self._read("list_sources", params)]

    async def delete_source(self, source_id: str, now: float) -> bool:
        def delete(conn: sqlite3.Connection) -> bool:
            return conn.execute(_Q["delete_source"], {"id": source_id, "now": now}).rowcount > 0

        return await self._writer.run("delete source", delete, durable=True)

    async def rotate_source_secret(
        self, source_id: str, secret: str, previous_expire_time: float
    ) -> bool:
        params = {"id": source_id, "secret": secret, "previous_expire": previous_expire_time}

        def rotate(conn: sqlite3.Connection) -> bool:
            return conn.execute(_Q["rotate_source_secret"], params).rowcount > 0

        return await self._writer.run("rotate source secret", rotate, durable=True)
