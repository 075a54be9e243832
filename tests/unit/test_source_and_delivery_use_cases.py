"""SourceManager and DeliveryManager over a real SQLite file: what each use case checks,
stores and wakes, without a gRPC server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from broker.clock import ManualClock, SeededRandom
from broker.deliveries import DeliveryManager
from broker.domain import (
    AttemptResult,
    Decision,
    DeliveryState,
    NewEvent,
    Outcome,
    Source,
    Subscription,
    Verdict,
    VerificationMode,
)
from broker.errors import InvalidArgument, NotFound
from broker.ids import IdFactory
from broker.sources import SourceManager
from broker.storage.sqlite import SqliteStore


@dataclass
class World:
    store: SqliteStore
    clock: ManualClock
    ids: IdFactory
    sources: SourceManager
    deliveries: DeliveryManager
    wakes: list[int]


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    store = await SqliteStore.open(str(tmp_path / "use-cases.db"))
    clock = ManualClock()
    rng = SeededRandom(5)
    ids = IdFactory(clock, rng)
    wakes: list[int] = []
    yield World(
        store,
        clock,
        ids,
        SourceManager(store, clock, rng, ids),
        DeliveryManager(store, clock, ids, lambda: wakes.append(1)),
        wakes,
    )
    await store.close()


def source(provider: str, secret: str = "", **fields: object) -> Source:
    return Source(id="", provider=provider, secret=secret, event_type_prefix="", **fields)  # type: ignore[arg-type]


# -- sources ------------------------------------------------------------------------------


async def test_a_source_is_stored_with_its_provider_as_the_default_prefix(world: World) -> None:
    created = await world.sources.create(source("github", "s3cret"))

    assert created.event_type_prefix == "github"
    assert await world.sources.get(created.id) == created
    [resolved_secret] = (await world.sources.resolve(created.id)).secrets
    assert resolved_secret == "s3cret"


async def test_a_connector_gets_a_generated_credential_and_refuses_a_given_one(
    world: World,
) -> None:
    connector = await world.sources.create(source("connector"))
    assert len(connector.secret) >= 43  # 256 bits, base64url
    with pytest.raises(InvalidArgument) as caught:
        await world.sources.create(source("connector", "mine"))
    assert caught.value.field == "source.secret"


async def test_bad_sources_are_named_and_nothing_is_stored(world: World) -> None:
    for bad, name in (
        (source("nosuch", "x"), "source.provider"),
        (source("github"), "source.secret"),
        (source("hmac", "x"), "source.options.header"),
        (source("github", "x", options={"header": "X"}), "source.options.header"),
    ):
        with pytest.raises(InvalidArgument) as caught:
            await world.sources.create(bad)
        assert caught.value.field == name
    assert await world.store.list_sources("", 10, "") == []


async def test_rotation_keeps_both_secrets_for_the_overlap_only(world: World) -> None:
    created = await world.sources.create(source("github", "old"))

    await world.sources.rotate_secret(created.id, "new", 60.0)

    assert (await world.sources.resolve(created.id)).secrets == ["new", "old"]
    world.clock.advance(61)
    assert (await world.sources.resolve(created.id)).secrets == ["new"]


async def test_a_deleted_source_resolves_as_deleted_and_is_gone_for_everyone_else(
    world: World,
) -> None:
    created = await world.sources.create(source("github", "s3cret"))

    await world.sources.delete(created.id)

    resolved = await world.sources.resolve(created.id)
    assert resolved.deleted and resolved.secrets == []
    with pytest.raises(NotFound):
        await world.sources.get(created.id)
    with pytest.raises(NotFound):
        await world.sources.delete(created.id)


# -- deliveries ---------------------------------------------------------------------------


async def subscribe(world: World, patterns: list[str]) -> Subscription:
    now = world.clock.now()
    sub = Subscription(
        id=world.ids.new("sub"),
        url="https://hooks.example.com/in",
        event_types=patterns,
        secret="whsec_" + "A" * 32,
        verification=VerificationMode.NONE,
        expire_time=now + 86400,
        create_time=now,
        update_time=now,
    )
    await world.store.create_subscription(sub)
    return sub


async def publish(world: World, event_type: str) -> str:
    new = NewEvent(event_type, b"{}", "application/json", {}, "")
    [result] = await world.store.publish([new], world.clock.now(), world.ids.new)
    return result.event.id


async def test_retry_revives_an_exhausted_delivery_and_wakes_the_dispatcher(
    world: World,
) -> None:
    await subscribe(world, ["*"])
    await publish(world, "a.b")
    now = world.clock.now()
    [lease] = await world.store.lease(now, 1, now + 60, "lse_1")
    outcome = Outcome(lease.delivery.id, "lse_1", AttemptResult.FAILED, 500, now, 0.1, "", "", None)
    await world.store.record_outcomes(
        [outcome], lambda *_: Decision(Verdict.EXHAUSTED), now, world.ids.new
    )

    revived = await world.deliveries.retry(lease.delivery.id)

    assert revived.state is DeliveryState.PENDING and world.wakes == [1]
    [attempt], _ = await world.deliveries.list_attempts(lease.delivery.id, 10, "")
    assert attempt.error == "HTTP 500" and attempt.result is AttemptResult.FAILED


async def test_replay_queues_the_matching_events_of_the_range_only(world: World) -> None:
    sub = await subscribe(world, ["a.*"])
    start = world.clock.now()
    await publish(world, "a.one")
    await publish(world, "b.other")
    world.clock.advance(10)
    await publish(world, "a.later")

    queued = await world.deliveries.replay(sub.id, start, start + 5)

    assert queued == 1 and world.wakes == [1]
    with pytest.raises(InvalidArgument) as caught:
        await world.deliveries.replay(sub.id, start, start)
    assert caught.value.field == "end_time"


async def test_unknown_deliveries_and_subscriptions_are_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        await world.deliveries.retry("dlv_missing")
    with pytest.raises(NotFound):
        await world.deliveries.list_attempts("dlv_missing", 10, "")
    with pytest.raises(NotFound):
        await world.deliveries.replay("sub_missing", 0.0, None)
    with pytest.raises(InvalidArgument):
        await world.deliveries.list_attempts("", 10, "")
    assert world.wakes == []


async def test_delivery_pages_follow_their_filters(world: World) -> None:
    sub = await subscribe(world, ["*"])
    for _ in range(3):
        await publish(world, "a.b")

    first, token = await world.deliveries.list_page(2, "", sub.id, "", None)
    rest, last = await world.deliveries.list_page(2, token, sub.id, "", None)

    assert len(first) == 2 and len(rest) == 1 and last == ""
    with pytest.raises(InvalidArgument) as caught:
        await world.deliveries.list_page(2, token, "", "", None)
    assert caught.value.field == "page_token"
