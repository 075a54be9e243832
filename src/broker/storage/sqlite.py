"""The embedded store: one SQLite file in WAL mode.

Writes go through `SqliteWriter` (whole transactions on one thread, `BEGIN IMMEDIATE`);
reads use an aiosqlite connection of their own, which sees only committed snapshots.
"""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import aiosqlite

from broker.domain import (
    ApiToken,
    Attempt,
    Delivery,
    DeliveryState,
    Event,
    Lease,
    NewEvent,
    Outcome,
    PublishResult,
    Source,
    Subscription,
    SubscriptionState,
)
from broker.storage import plans, sealing
from broker.storage.contract import (
    Decide,
    MakeId,
    Notice,
    NoticesFor,
    OutcomesApplied,
    StoreError,
)
from broker.storage.named_sql import load_queries
from broker.storage.rows import (
    api_token_from,
    api_token_params,
    attempt_from,
    delivery_from,
    event_from,
    source_from,
    source_params,
    subscription_from,
    subscription_params,
)
from broker.storage.sqlite_bulk import insert_rows
from broker.storage.sqlite_writer import PRAGMAS, SqliteWriter

_Q = load_queries("sqlite")
REPLAY_PAGE = 1000


def _ids(values: Iterable[str]) -> dict[str, str]:
    return {"ids": json.dumps(list(values))}


def _all(conn: sqlite3.Connection, query: str, params: dict[str, Any]) -> list[sqlite3.Row]:
    return conn.execute(_Q[query], params).fetchall()


def _publish_in(
    conn: sqlite3.Connection,
    events: Sequence[NewEvent],
    now: float,
    make_id: MakeId,
    targets: Sequence[Sequence[str]] = (),
) -> list[PublishResult]:
    """Publish inside the caller's transaction (so notices commit with their cause);
    `targets[i]` adds subscriptions that get event i whatever their patterns (a lifecycle
    notice goes to the subscription it is about)."""
    if not events:
        return []
    keys = [e.idempotency_key for e in events if e.idempotency_key]
    stored = _stored_by_key(conn, keys) if keys else {}
    by_pattern: dict[str, list[str]] = {}
    patterns = json.dumps(plans.patterns_for(events))
    for row in _all(conn, "matching_subscriptions", {"patterns": patterns, "now": now}):
        by_pattern.setdefault(row[0], []).append(row[1])
    plan = plans.plan_publish(events, stored, by_pattern, now, make_id, targets)
    insert_rows(conn, _Q["insert_event"], plan.event_rows)
    insert_rows(conn, _Q["insert_delivery"], plan.delivery_rows)
    return plan.results


def _stored_by_key(conn: sqlite3.Connection, keys: Sequence[str]) -> dict[str, Event]:
    """The stored events holding any of `keys`, by key.

    Each key is bound to a placeholder of its own, compared exactly as the insert stored
    it: a lookup that missed a stored key would let the insert break the unique index and
    fail every publish of the commit. The `IN (?)` list is padded with NULLs (which match
    nothing) to one of a few lengths, so the statement cache holds every text."""
    head, _, tail = _Q["events_by_idempotency_key"].rpartition("(?)")
    found: dict[str, Event] = {}
    for start in range(0, len(keys), KEY_CHUNKS[0]):
        chunk: list[str | None] = list(keys[start : start + KEY_CHUNKS[0]])
        size = min(size for size in KEY_CHUNKS if size >= len(chunk))
        chunk.extend([None] * (size - len(chunk)))
        for row in conn.execute(_keys_statement(head, tail, size), chunk):
            found[row["idempotency_key"]] = event_from(row)
    return found


KEY_CHUNKS = (256, 128, 64, 32, 16, 8, 4, 2, 1)


@functools.lru_cache(maxsize=16)
def _keys_statement(head: str, tail: str, size: int) -> str:
    return f"{head}({', '.join(['?'] * size)}){tail}"


def _write_patterns(conn: sqlite3.Connection, sub: Subscription) -> None:
    conn.execute(_Q["delete_patterns"], {"id": sub.id})
    conn.executemany(
        _Q["insert_pattern"], [{"pattern": p, "subscription_id": sub.id} for p in sub.event_types]
    )


def _resealed(
    sealer: sealing.Sealer, newest: str, row: sqlite3.Row, connector: bool
) -> dict[str, str]:
    """The row's secret columns that are not sealed under the newest key, sealed under it (a
    connector's clear credential becomes its hash first); empty when all of them are."""
    changed = {}
    for column in ("secret", "previous_secret"):
        value = row[column] or ""
        if value and sealing.sealed_key_id(value) != newest:
            clear = sealer.open(value, row["id"], column)
            if connector and not sealing.is_connector_hash(clear):
                clear = sealing.hash_connector_token(clear)
            changed[column] = sealer.seal(clear, row["id"], column)
    return changed


async def _key_file_sealer(reader: aiosqlite.Connection, path: str) -> sealing.Sealer:
    """The key file's sealer; made with a new key only while nothing is sealed yet, so a
    lost key file is an error and never a reason to seal under a key nobody kept."""
    if path == ":memory:":
        return sealing.Sealer([sealing.new_key()])
    async with reader.execute(_Q["any_sealed_secret"]) as cursor:
        row = await cursor.fetchone()
    try:
        found = sealing.key_file_sealer(path, create=not (row and row["sealed"]))
    except ValueError as exc:
        raise StoreError(f"cannot read the secret key file: {exc}") from None
    if found is None:
        raise sealing.SealingError(sealing.WRONG_KEY)
    return found


class SqliteStore:
    """`Store` on SQLite; open it with `await SqliteStore.open(path)`."""

    def __init__(
        self, writer: SqliteWriter, reader: aiosqlite.Connection, sealer: sealing.Sealer
    ) -> None:
        self._writer = writer
        self._reader = reader
        self._sealer = sealer
        self.resealed_at_open = 0

    @property
    def sealing_key_id(self) -> str:
        """The id of the key new secrets are sealed under."""
        return self._sealer.key_id

    @classmethod
    async def open(cls, path: str, sealer: sealing.Sealer | None = None) -> SqliteStore:
        """Open (and migrate) the database; secrets are sealed under `sealer`, by default
        the key file beside the database, made at the first start. Clear secrets of an older
        database are sealed now; a key that does not open the stored ones is a StoreError."""
        writer = SqliteWriter(path)
        await writer.open()
        try:
            reader = await aiosqlite.connect(path, isolation_level=None)
            reader.row_factory = sqlite3.Row
            for pragma in PRAGMAS:
                await reader.execute(pragma)
        except sqlite3.Error as exc:
            await writer.close()
            raise StoreError(f"cannot open SQLite database: {exc}") from exc
        try:
            store = cls(writer, reader, sealer or await _key_file_sealer(reader, path))
            store.resealed_at_open = await store.reseal_secrets()
        except BaseException:
            await reader.close()
            await writer.close()
            raise
        return store

    async def reseal_secrets(self, batch: int = 100) -> int:
        """Seal every secret not yet sealed under the newest key (clear values of an older
        database, values under an older key after a rotation), `batch` rows a transaction so
        deliveries go on meanwhile; returns how many rows changed. A value under a key the
        sealer does not know is a SealingError."""
        changed = 0
        for table in ("subscription", "source"):
            after = ""
            while True:
                count, after = await self._writer.run(
                    "reseal secrets", self._reseal_page(table, after, batch), durable=True
                )
                changed += count
                if not after:
                    break
        return changed

    def _reseal_page(
        self, table: str, after: str, batch: int
    ) -> Callable[[sqlite3.Connection], tuple[int, str]]:
        sealer = self._sealer

        def reseal(conn: sqlite3.Connection) -> tuple[int, str]:
            rows = _all(conn, f"{table}_secrets_page", {"after": after, "limit": batch})
            newest, changed = sealer.key_id, 0
            for row in rows:
                connector = table == "source" and row["provider"] == sealing.CONNECTOR
                if resealed := _resealed(sealer, newest, row, connector):
                    params = {c: row[c] for c in ("id", "secret", "previous_secret")}
                    conn.execute(_Q[f"reseal_{table}"], params | resealed)
                    changed += 1
            return changed, rows[-1]["id"] if len(rows) == batch else ""

        return reseal

    async def close(self) -> None:
        await self._reader.close()
        await self._writer.close()

    async def _read(self, query: str, params: dict[str, Any]) -> list[sqlite3.Row]:
        try:
            async with self._reader.execute(_Q[query], params) as cursor:
                return list(await cursor.fetchall())
        except sqlite3.Error as exc:
            raise StoreError(f"{query} failed: {exc.__class__.__name__}") from exc

    # -- events ---------------------------------------------------------------

    async def publish(
        self, events: Sequence[NewEvent], now: float, make_id: MakeId
    ) -> list[PublishResult]:
        return await self._writer.run(
            "publish", lambda conn: _publish_in(conn, events, now, make_id), durable=True
        )

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
        def create(conn: sqlite3.Connection) -> None:
            conn.execute(_Q["insert_subscription"], subscription_params(subscription, self._sealer))
            _write_patterns(conn, subscription)

        await self._writer.run("create subscription", create, durable=True)

    async def get_subscription(self, subscription_id: str) -> Subscription | None:
        rows = await self._read("get_subscription", {"id": subscription_id})
        return subscription_from(rows[0], self._sealer) if rows else None

    async def list_subscriptions(
        self, after: str, limit: int, state: SubscriptionState | None
    ) -> list[Subscription]:
        params = {"after": after, "limit": limit, "state": state.value if state else ""}
        return [
            subscription_from(row, self._sealer)
            for row in await self._read("list_subscriptions", params)
        ]

    async def update_subscription(
        self, subscription: Subscription, expected_update_time: float
    ) -> bool:
        def update(conn: sqlite3.Connection) -> bool:
            params = subscription_params(subscription, self._sealer)
            params["expected_update_time"] = expected_update_time
            if conn.execute(_Q["update_subscription"], params).rowcount == 0:
                return False
            _write_patterns(conn, subscription)
            return True

        return await self._writer.run("update subscription", update, durable=True)

    async def delete_subscription(self, subscription_id: str, now: float) -> bool:
        def delete(conn: sqlite3.Connection) -> bool:
            if conn.execute(_Q["delete_subscription"], {"id": subscription_id}).rowcount == 0:
                return False
            conn.execute(_Q["delete_patterns"], {"id": subscription_id})
            conn.execute(_Q["cancel_subscription_deliveries"], {"id": subscription_id, "now": now})
            return True

        return await self._writer.run("delete subscription", delete, durable=True)

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
        def retry(conn: sqlite3.Connection) -> Delivery | None:
            rows = _all(conn, "retry_delivery", {"id": delivery_id, "now": now})
            return delivery_from(rows[0]) if rows else None

        return await self._writer.run("retry delivery", retry, durable=True)

    async def lease(
        self,
        now: float,
        limit: int,
        lease_expire_time: float,
        lease_id: str,
        blocked: Sequence[str] = (),
        room: Callable[[str], int] | None = None,
    ) -> list[Lease]:
        def lease(conn: sqlite3.Connection) -> list[Lease]:
            params = {"now": now, "limit": limit, "blocked": json.dumps(list(blocked))}
            query = "due_deliveries_per_subscription" if blocked else "due_deliveries"
            candidates = [(r[0], r[1]) for r in _all(conn, query, params)]
            chosen = plans.within_room(candidates, room)
            if not chosen:
                return []
            marks = {"lease_expire_time": lease_expire_time, "lease_id": lease_id, **_ids(chosen)}
            deliveries = [delivery_from(r) for r in _all(conn, "lease_deliveries", marks)]
            events = {
                r["id"]: event_from(r)
                for r in _all(conn, "events_by_ids", _ids({d.event_id for d in deliveries}))
            }
            subs = {
                r["id"]: subscription_from(r, self._sealer)
                for r in _all(
                    conn, "subscriptions_by_ids", _ids({d.subscription_id for d in deliveries})
                )
            }
            deliveries.sort(key=lambda d: (d.create_time, d.id))
            return [
                Lease(d, events[d.event_id], subs[d.subscription_id], lease_id, lease_expire_time)
                for d in deliveries
            ]

        return await self._writer.run("lease", lease)

    async def next_due_time(self, now: float, blocked: Sequence[str] = ()) -> float | None:
        params = {"now": now, "blocked": json.dumps(list(blocked))}
        query = "next_due_time_per_subscription" if blocked else "next_due_time"
        rows = await self._read(query, params)
        return rows[0][0] if rows and rows[0][0] is not None else None

    async def record_outcomes(
        self,
        outcomes: Sequence[Outcome],
        decide: Decide,
        now: float,
        make_id: MakeId,
        notices: NoticesFor | None = None,
    ) -> OutcomesApplied:
        def record(conn: sqlite3.Connection) -> OutcomesApplied:
            wanted = _ids({o.delivery_id for o in outcomes})
            deliveries = {
                r["id"]: delivery_from(r) for r in _all(conn, "deliveries_by_ids", wanted)
            }
            owners = _ids({d.subscription_id for d in deliveries.values()})
            subs = {
                r["id"]: subscription_from(r, self._sealer)
                for r in _all(conn, "subscriptions_by_ids", owners)
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
                    conn.executemany(_Q[query], rows)
            result = OutcomesApplied(plan.applied, list(plan.newly_disabled.values()))
            if notices is not None:
                _publish_in(conn, notices(result), now, make_id)
            return result

        return await self._writer.run("record outcomes", record)

    # -- lifecycle ----------------------------------------------------------------

    async def warn_expiring(
        self, before: float, limit: int, now: float, make_id: MakeId, notice: Notice
    ) -> list[Subscription]:
        def warn(conn: sqlite3.Connection) -> list[Subscription]:
            params = {"before": before, "limit": limit}
            subs = [
                subscription_from(r, self._sealer)
                for r in _all(conn, "subscriptions_to_warn", params)
            ]
            if subs:
                _publish_in(conn, [notice(s) for s in subs], now, make_id, [[s.id] for s in subs])
                conn.executemany(
                    _Q["mark_expiring_notified"], [{"id": s.id, "now": now} for s in subs]
                )
            return subs

        return await self._writer.run("warn expiring", warn, durable=True)

    async def expire_subscriptions(
        self, now: float, limit: int, make_id: MakeId, notice: Notice
    ) -> list[Subscription]:
        def expire(conn: sqlite3.Connection) -> list[Subscription]:
            rows = _all(conn, "expire_subscriptions", {"now": now, "limit": limit})
            subs = [subscription_from(row, self._sealer) for row in rows]
            _publish_in(conn, [notice(s) for s in subs], now, make_id)
            return subs

        return await self._writer.run("expire subscriptions", expire, durable=True)

    async def replay(
        self, subscription: Subscription, start: float, end: float, now: float, make_id: MakeId
    ) -> int:
        def replay_page(after: str) -> Callable[[sqlite3.Connection], tuple[int, str]]:
            def work(conn: sqlite3.Connection) -> tuple[int, str]:
                params = {"start": start, "end": end, "after": after, "limit": REPLAY_PAGE}
                events = [(r[0], r[1]) for r in _all(conn, "events_in_window", params)]
                rows = plans.replay_rows(subscription, events, now, make_id)
                insert_rows(conn, _Q["insert_delivery"], rows)
                last = events[-1][0] if len(events) == REPLAY_PAGE else ""
                return len(rows), last

            return work

        queued, after = 0, ""
        while True:
            count, after = await self._writer.run("replay", replay_page(after), durable=True)
            queued += count
            if not after:
                return queued

    async def purge_events(self, before: float, limit: int) -> int:
        def purge(conn: sqlite3.Connection) -> int:
            events = [r[0] for r in _all(conn, "purge_events", {"before": before, "limit": limit})]
            if events:
                deliveries = [r[0] for r in _all(conn, "purge_deliveries", _ids(events))]
                if deliveries:
                    conn.execute(_Q["purge_attempts"], _ids(deliveries))
            return len(events)

        return await self._writer.run("purge events", purge)

    # -- inbound sources: small, rarely written, read once per inbound request ------

    async def create_source(self, source: Source) -> None:
        def create(conn: sqlite3.Connection) -> None:
            conn.execute(_Q["insert_source"], source_params(source, self._sealer))

        await self._writer.run("create source", create, durable=True)

    async def get_source(self, source_id: str) -> Source | None:
        rows = await self._read("get_source", {"id": source_id})
        return source_from(rows[0], self._sealer) if rows else None

    async def list_sources(self, after: str, limit: int, provider: str) -> list[Source]:
        params = {"after": after, "limit": limit, "provider": provider}
        return [source_from(row, self._sealer) for row in await self._read("list_sources", params)]

    async def delete_source(self, source_id: str, now: float) -> bool:
        def delete(conn: sqlite3.Connection) -> bool:
            return conn.execute(_Q["delete_source"], {"id": source_id, "now": now}).rowcount > 0

        return await self._writer.run("delete source", delete, durable=True)

    async def rotate_source_secret(
        self, source_id: str, secret: str, previous_expire_time: float
    ) -> bool:
        sealer = self._sealer

        def rotate(conn: sqlite3.Connection) -> bool:
            rows = _all(conn, "get_source", {"id": source_id})
            if not rows or rows[0]["delete_time"]:
                return False
            previous = sealer.open(rows[0]["secret"], source_id, "secret")
            params = {
                "id": source_id,
                "secret": sealer.seal(secret, source_id, "secret"),
                "previous_secret": sealer.seal(previous, source_id, "previous_secret"),
                "previous_secret_expire_time": previous_expire_time,
            }
            return conn.execute(_Q["set_source_secrets"], params).rowcount > 0

        return await self._writer.run("rotate source secret", rotate, durable=True)

    # -- API tokens ------------------------------------------------------------------

    async def create_api_token(self, token: ApiToken) -> None:
        params = api_token_params(token)
        await self._writer.run(
            "create API token",
            lambda conn: conn.execute(_Q["insert_api_token"], params),
            durable=True,
        )

    async def get_api_token(self, token_id: str) -> ApiToken | None:
        rows = await self._read("get_api_token", {"id": token_id})
        return api_token_from(rows[0]) if rows else None

    async def list_api_tokens(self, after: str, limit: int) -> list[ApiToken]:
        rows = await self._read("list_api_tokens", {"after": after, "limit": limit})
        return [api_token_from(row) for row in rows]

    async def revoke_api_token(self, token_id: str, now: float) -> bool:
        def revoke(conn: sqlite3.Connection) -> bool:
            return conn.execute(_Q["revoke_api_token"], {"id": token_id, "now": now}).rowcount > 0

        return await self._writer.run("revoke API token", revoke, durable=True)

    async def count_api_tokens(self) -> int:
        [row] = await self._read("count_api_tokens", {})
        return int(row["n"])


def _pattern_filter(pattern: str) -> tuple[str, str]:
    """(exact type, type prefix) for a list filter pattern; ("", "") means no filter."""
    if not pattern or pattern == "*":
        return "", ""
    if pattern.endswith(".*"):
        return "", pattern[:-1]
    return pattern, ""
