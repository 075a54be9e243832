"""The embedded store: one SQLite file in WAL mode.

One writer connection (every write transaction `BEGIN IMMEDIATE`, serialized by a lock
so statements of concurrent coroutines never interleave inside a transaction) and one
reader connection, which sees only committed snapshots.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiosqlite

from broker.domain import (
    Attempt,
    Delivery,
    DeliveryState,
    Event,
    Lease,
    NewEvent,
    Outcome,
    PublishResult,
    Subscription,
    SubscriptionState,
)
from broker.storage import plans
from broker.storage.contract import (
    Decide,
    MakeId,
    Notice,
    NoticesFor,
    OutcomesApplied,
    StoreError,
)
from broker.storage.named_sql import load_migrations, load_queries
from broker.storage.rows import (
    attempt_from,
    delivery_from,
    event_from,
    subscription_from,
    subscription_params,
)

_Q = load_queries("sqlite")


def _ids(values: Iterable[str]) -> dict[str, str]:
    return {"ids": json.dumps(list(values))}


class SqliteStore:
    """`Store` on SQLite; open it with `await SqliteStore.open(path)`."""

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self._writer = writer
        self._reader = reader
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str) -> SqliteStore:
        try:
            writer = await cls._connect(path)
            await cls._migrate(writer)
            reader = await cls._connect(path)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open SQLite database: {exc}") from exc
        return cls(writer, reader)

    @staticmethod
    async def _connect(path: str) -> aiosqlite.Connection:
        conn = await aiosqlite.connect(path, isolation_level=None)
        conn.row_factory = sqlite3.Row
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=FULL",
            "PRAGMA busy_timeout=5000",
            "PRAGMA foreign_keys=OFF",
        ):
            await conn.execute(pragma)
        return conn

    @staticmethod
    async def _migrate(conn: aiosqlite.Connection) -> None:
        async with conn.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        current = int(row[0]) if row else 0
        for version, script in load_migrations("sqlite"):
            if version <= current:
                continue
            try:
                await conn.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {version};\nCOMMIT;"
                )
            except sqlite3.Error:
                await conn.execute("ROLLBACK")
                raise

    async def close(self) -> None:
        await self._reader.close()
        await self._writer.close()

    @asynccontextmanager
    async def _transaction(self, what: str) -> AsyncIterator[aiosqlite.Connection]:
        async with self._lock:
            try:
                await self._writer.execute("BEGIN IMMEDIATE")
                try:
                    yield self._writer
                except BaseException:
                    await self._writer.execute("ROLLBACK")
                    raise
                await self._writer.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreError(f"{what} failed: {exc.__class__.__name__}") from exc

    async def _read(self, query: str, params: dict[str, Any]) -> list[sqlite3.Row]:
        try:
            async with self._reader.execute(_Q[query], params) as cursor:
                return list(await cursor.fetchall())
        except sqlite3.Error as exc:
            raise StoreError(f"{query} failed: {exc.__class__.__name__}") from exc

    @staticmethod
    async def _fetch(
        conn: aiosqlite.Connection, query: str, params: dict[str, Any]
    ) -> list[sqlite3.Row]:
        async with conn.execute(_Q[query], params) as cursor:
            return list(await cursor.fetchall())

    # -- events ---------------------------------------------------------------

    async def publish(
        self,
        events: Sequence[NewEvent],
        now: float,
        make_id: MakeId,
        targets: Sequence[Sequence[str]] = (),
    ) -> list[PublishResult]:
        async with self._transaction("publish") as conn:
            return await self._publish_in(conn, events, now, make_id, targets)

    async def _publish_in(
        self,
        conn: aiosqlite.Connection,
        events: Sequence[NewEvent],
        now: float,
        make_id: MakeId,
        targets: Sequence[Sequence[str]] = (),
    ) -> list[PublishResult]:
        """Publish inside the caller's transaction (so notices commit with their cause)."""
        if not events:
            return []
        keys = [e.idempotency_key for e in events if e.idempotency_key]
        stored: dict[str, Event] = {}
        if keys:
            rows = await self._fetch(conn, "events_by_idempotency_key", {"keys": json.dumps(keys)})
            stored = {row["idempotency_key"]: event_from(row) for row in rows}
        by_pattern: dict[str, list[str]] = {}
        patterns = plans.patterns_for(events)
        for row in await self._fetch(
            conn, "matching_subscriptions", {"patterns": json.dumps(patterns), "now": now}
        ):
            by_pattern.setdefault(row[0], []).append(row[1])
        plan = plans.plan_publish(events, stored, by_pattern, now, make_id, targets)
        if plan.event_rows:
            await conn.executemany(_Q["insert_event"], plan.event_rows)
        if plan.delivery_rows:
            await conn.executemany(_Q["insert_delivery"], plan.delivery_rows)
        return plan.results

    async def get_event(self, event_id: str) -> Event | None:
        rows = await self._read("get_event", {"id": event_id})
        return event_from(rows[0]) if rows else None

    async def list_events(self, after: str, limit: int, type_pattern: str) -> list[Event]:
        exact, prefix = _pattern_filter(type_pattern)
        rows = await self._read(
            "list_events", {"after": after, "limit": limit, "type": exact, "prefix": prefix}
        )
        return [event_from(row) for row in rows]

    # -- subscriptions ---------------------------------------------------------

    async def create_subscription(self, subscription: Subscription) -> None:
        async with self._transaction("create subscription") as conn:
            await conn.execute(_Q["insert_subscription"], subscription_params(subscription))
            await self._write_patterns(conn, subscription)

    async def _write_patterns(self, conn: aiosqlite.Connection, sub: Subscription) -> None:
        await conn.execute(_Q["delete_patterns"], {"id": sub.id})
        await conn.executemany(
            _Q["insert_pattern"],
            [{"pattern": p, "subscription_id": sub.id} for p in sub.event_types],
        )

    async def get_subscription(self, subscription_id: str) -> Subscription | None:
        rows = await self._read("get_subscription", {"id": subscription_id})
        return subscription_from(rows[0]) if rows else None

    async def list_subscriptions(
        self, after: str, limit: int, state: SubscriptionState | None
    ) -> list[Subscription]:
        params = {"after": after, "limit": limit, "state": state.value if state else ""}
        return [subscription_from(row) for row in await self._read("list_subscriptions", params)]

    async def update_subscription(
        self, subscription: Subscription, expected_update_time: float
    ) -> bool:
        params = subscription_params(subscription)
        params["expected_update_time"] = expected_update_time
        async with self._transaction("update subscription") as conn:
            cursor = await conn.execute(_Q["update_subscription"], params)
            if cursor.rowcount == 0:
                return False
            await self._write_patterns(conn, subscription)
        return True

    async def delete_subscription(self, subscription_id: str, now: float) -> bool:
        async with self._transaction("delete subscription") as conn:
            cursor = await conn.execute(_Q["delete_subscription"], {"id": subscription_id})
            if cursor.rowcount == 0:
                return False
            await conn.execute(_Q["delete_patterns"], {"id": subscription_id})
            await conn.execute(
                _Q["cancel_subscription_deliveries"], {"id": subscription_id, "now": now}
            )
        return True

    # -- deliveries ---------------------------------------------------------------

    async def get_delivery(self, delivery_id: str) -> Delivery | None:
        rows = await self._read("get_delivery", {"id": delivery_id})
        return delivery_from(rows[0]) if rows else None

    async def list_deliveries(
        self,
        after: str,
        limit: int,
        subscription_id: str,
        event_id: str,
        state: DeliveryState | None,
    ) -> list[Delivery]:
        params = {
            "after": after,
            "limit": limit,
            "subscription_id": subscription_id,
            "event_id": event_id,
            "state": state.value if state else "",
        }
        return [delivery_from(row) for row in await self._read("list_deliveries", params)]

    async def list_attempts(self, delivery_id: str, after: str, limit: int) -> list[Attempt]:
        params = {"delivery_id": delivery_id, "after": after, "limit": limit}
        return [attempt_from(row) for row in await self._read("list_attempts", params)]

    async def retry_delivery(self, delivery_id: str, now: float) -> Delivery | None:
        async with self._transaction("retry delivery") as conn:
            rows = await self._fetch(conn, "retry_delivery", {"id": delivery_id, "now": now})
        return delivery_from(rows[0]) if rows else None

    async def lease(
        self,
        now: float,
        limit: int,
        lease_expire_time: float,
        lease_id: str,
        blocked: Sequence[str] = (),
        room: Callable[[str], int] | None = None,
    ) -> list[Lease]:
        async with self._transaction("lease") as conn:
            params = {"now": now, "limit": limit, "blocked": json.dumps(list(blocked))}
            candidates = [(r[0], r[1]) for r in await self._fetch(conn, "due_deliveries", params)]
            chosen = plans.within_room(candidates, room)
            if not chosen:
                return []
            lease = {"lease_expire_time": lease_expire_time, "lease_id": lease_id}
            deliveries = [
                delivery_from(r)
                for r in await self._fetch(conn, "lease_deliveries", {**lease, **_ids(chosen)})
            ]
            events = {
                r["id"]: event_from(r)
                for r in await self._fetch(
                    conn, "events_by_ids", _ids({d.event_id for d in deliveries})
                )
            }
            subs = {
                r["id"]: subscription_from(r)
                for r in await self._fetch(
                    conn, "subscriptions_by_ids", _ids({d.subscription_id for d in deliveries})
                )
            }
        deliveries.sort(key=lambda d: (d.create_time, d.id))
        return [
            Lease(d, events[d.event_id], subs[d.subscription_id], lease_id, lease_expire_time)
            for d in deliveries
        ]

    async def next_due_time(self, blocked: Sequence[str] = ()) -> float | None:
        rows = await self._read("next_due_time", {"blocked": json.dumps(list(blocked))})
        return rows[0][0] if rows and rows[0][0] is not None else None

    async def record_outcomes(
        self,
        outcomes: Sequence[Outcome],
        decide: Decide,
        now: float,
        make_id: MakeId,
        notices: NoticesFor | None = None,
    ) -> OutcomesApplied:
        async with self._transaction("record outcomes") as conn:
            deliveries = {
                r["id"]: delivery_from(r)
                for r in await self._fetch(
                    conn, "deliveries_by_ids", _ids({o.delivery_id for o in outcomes})
                )
            }
            subs = {
                r["id"]: subscription_from(r)
                for r in await self._fetch(
                    conn,
                    "subscriptions_by_ids",
                    _ids({d.subscription_id for d in deliveries.values()}),
                )
            }
            plan = plans.plan_outcomes(outcomes, deliveries, subs, decide, now, make_id)
            for query, rows in (
                ("insert_attempt", plan.attempt_rows),
                ("finish_attempt", plan.delivery_updates),
                ("mark_subscription_healthy", plan.healthy),
                ("mark_subscription_failing", plan.failing),
                ("disable_subscription", plan.disabled),
            ):
                if rows:
                    await conn.executemany(_Q[query], rows)
            result = OutcomesApplied(plan.applied, list(plan.newly_disabled.values()))
            if notices is not None:
                await self._publish_in(conn, notices(result), now, make_id)
        return result

    # -- lifecycle ----------------------------------------------------------------

    async def warn_expiring(
        self, before: float, limit: int, now: float, make_id: MakeId, notice: Notice
    ) -> list[Subscription]:
        async with self._transaction("warn expiring") as conn:
            params = {"before": before, "limit": limit}
            subs = [
                subscription_from(r)
                for r in await self._fetch(conn, "subscriptions_to_warn", params)
            ]
            if subs:
                await self._publish_in(
                    conn, [notice(s) for s in subs], now, make_id, [[s.id] for s in subs]
                )
                await conn.executemany(
                    _Q["mark_expiring_notified"], [{"id": s.id, "now": now} for s in subs]
                )
        return subs

    async def expire_subscriptions(
        self, now: float, limit: int, make_id: MakeId, notice: Notice
    ) -> list[Subscription]:
        async with self._transaction("expire subscriptions") as conn:
            rows = await self._fetch(conn, "expire_subscriptions", {"now": now, "limit": limit})
            subs = [subscription_from(row) for row in rows]
            await self._publish_in(conn, [notice(s) for s in subs], now, make_id)
        return subs

    async def replay(
        self, subscription: Subscription, start: float, end: float, now: float, make_id: MakeId
    ) -> int:
        queued, after = 0, ""
        while True:
            async with self._transaction("replay") as conn:
                params = {"start": start, "end": end, "after": after, "limit": 1000}
                events = [(r[0], r[1]) for r in await self._fetch(conn, "events_in_window", params)]
                rows = plans.replay_rows(subscription, events, now, make_id)
                if rows:
                    await conn.executemany(_Q["insert_delivery"], rows)
            queued += len(rows)
            if len(events) < 1000:
                return queued
            after = events[-1][0]

    async def purge_events(self, before: float, limit: int) -> int:
        async with self._transaction("purge events") as conn:
            events = [
                r[0]
                for r in await self._fetch(conn, "purge_events", {"before": before, "limit": limit})
            ]
            if events:
                deliveries = [
                    r[0] for r in await self._fetch(conn, "purge_deliveries", _ids(events))
                ]
                if deliveries:
                    await conn.execute(_Q["purge_attempts"], _ids(deliveries))
        return len(events)


def _pattern_filter(pattern: str) -> tuple[str, str]:
    """(exact type, type prefix) for a list filter pattern; ("", "") means no filter."""
    if not pattern or pattern == "*":
        return "", ""
    if pattern.endswith(".*"):
        return "", pattern[:-1]
    return pattern, ""
