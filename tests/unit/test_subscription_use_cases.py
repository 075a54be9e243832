"""SubscriptionManager over a real SQLite file, with a verifier that answers as told: the
rules of create, update, rotate and the state changes, without a gRPC server or a gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from broker.clock import ManualClock, SeededRandom
from broker.domain import (
    Subscription,
    SubscriptionState,
    VerificationMode,
    VerificationResult,
    VerificationTask,
)
from broker.errors import FailedPrecondition, InvalidArgument, NotFound
from broker.ids import IdFactory
from broker.storage.sqlite import SqliteStore
from broker.subscriptions import SubscriptionManager, SubscriptionSettings

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@dataclass
class ScriptedVerifier:
    """Answers every handshake with `answer` and remembers the tasks it was given."""

    answer: VerificationResult = field(default_factory=lambda: VerificationResult(True, "ok"))
    tasks: list[VerificationTask] = field(default_factory=list)

    async def verify(self, task: VerificationTask) -> VerificationResult:
        self.tasks.append(task)
        return self.answer


@dataclass
class Wakes:
    count: int = 0

    def __call__(self) -> None:
        self.count += 1


@dataclass
class World:
    manager: SubscriptionManager
    store: SqliteStore
    clock: ManualClock
    verifier: ScriptedVerifier
    wakes: Wakes


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    store = await SqliteStore.open(str(tmp_path / "subscriptions.db"))
    clock = ManualClock()
    rng = SeededRandom(3)
    verifier, wakes = ScriptedVerifier(), Wakes()
    manager = SubscriptionManager(
        store,
        clock,
        rng,
        IdFactory(clock, rng),
        verifier,
        wakes,
        SubscriptionSettings(max_lifetime=10 * 86400.0, rotation_overlap=3600.0),
    )
    yield World(manager, store, clock, verifier, wakes)
    await store.close()


def draft(**fields: object) -> Subscription:
    values: dict[str, object] = {
        "id": "",
        "url": "https://hooks.example.com/in",
        "event_types": ["invoice.*"],
        "secret": "",
    }
    values.update(fields)
    return Subscription(**values)  # type: ignore[arg-type]


async def test_create_stores_an_active_subscription_after_the_endpoint_agreed(
    world: World,
) -> None:
    created = await world.manager.create(draft(event_types=["b.*", "a.x", "b.*"]))

    [task] = world.verifier.tasks
    assert task.url == created.url and task.mode is VerificationMode.ECHO_TOKEN
    assert created.state is SubscriptionState.ACTIVE
    assert created.event_types == ["a.x", "b.*"]
    assert created.secret.startswith("whsec_")
    assert created.expire_time == world.clock.now() + 10 * 86400
    assert await world.store.get_subscription(created.id) == created


async def test_a_refused_handshake_stores_nothing_and_says_what_the_endpoint_answered(
    world: World,
) -> None:
    world.verifier.answer = VerificationResult(False, "endpoint answered HTTP 404, not 200")

    with pytest.raises(FailedPrecondition, match="HTTP 404"):
        await world.manager.create(draft())

    assert await world.store.list_subscriptions("", 10, None) == []


async def test_verification_none_asks_no_endpoint(world: World) -> None:
    await world.manager.create(draft(verification=VerificationMode.NONE))
    assert world.verifier.tasks == []


async def test_an_announced_rate_becomes_the_subscriptions_rate_limit(world: World) -> None:
    world.verifier.answer = VerificationResult(True, "origin allowed", allowed_rate=120)
    created = await world.manager.create(draft(verification=VerificationMode.CLOUDEVENTS_OPTIONS))
    assert created.rate_limit == 120


async def test_bad_fields_are_named_and_nothing_is_stored(world: World) -> None:
    for bad, name in (
        (draft(url="ftp://x"), "subscription.url"),
        (draft(event_types=[]), "subscription.event_types"),
        (draft(secret="nope"), "subscription.secret"),
        (draft(expire_time=world.clock.now() - 1), "subscription.expire_time"),
    ):
        with pytest.raises(InvalidArgument) as caught:
            await world.manager.create(bad)
        assert caught.value.field == name
    assert await world.store.list_subscriptions("", 10, None) == []


async def test_update_applies_only_the_masked_fields_and_reverifies_a_new_url(
    world: World,
) -> None:
    created = await world.manager.create(draft(description="before"))
    change = draft(id=created.id, url="https://other.example.com/in", description="ignored")

    updated = await world.manager.update(change, ["url"])

    assert updated.url == "https://other.example.com/in"
    assert updated.description == "before"
    assert [t.url for t in world.verifier.tasks] == [created.url, updated.url]
    with pytest.raises(InvalidArgument) as caught:
        await world.manager.update(change, ["state"])
    assert caught.value.field == "update_mask"


async def test_rotation_keeps_the_old_secret_valid_for_the_overlap(world: World) -> None:
    created = await world.manager.create(draft(secret=SECRET))

    rotated = await world.manager.rotate_secret(created.id, "", None)

    now = world.clock.now()
    assert rotated.secret != SECRET
    assert rotated.signing_secrets(now) == [rotated.secret, SECRET]
    assert rotated.signing_secrets(now + 3601) == [rotated.secret]


async def test_pause_holds_and_resume_wakes_the_dispatcher(world: World) -> None:
    created = await world.manager.create(draft())

    paused = await world.manager.pause(created.id)
    assert paused.state is SubscriptionState.PAUSED and world.wakes.count == 0
    resumed = await world.manager.resume(created.id)
    assert resumed.state is SubscriptionState.ACTIVE and world.wakes.count == 1


async def test_a_lapsed_subscription_shows_expired_and_must_be_renewed(world: World) -> None:
    created = await world.manager.create(draft())
    world.clock.advance(10 * 86400 + 1)

    assert (await world.manager.get(created.id)).state is SubscriptionState.EXPIRED
    with pytest.raises(FailedPrecondition):
        await world.manager.resume(created.id)
    renewed = await world.manager.renew(created.id, 0.0)
    assert renewed.state is SubscriptionState.ACTIVE
    assert renewed.expire_time == world.clock.now() + 10 * 86400


async def test_unknown_ids_are_not_found(world: World) -> None:
    for call in (
        world.manager.get("sub_missing"),
        world.manager.pause("sub_missing"),
        world.manager.delete("sub_missing"),
    ):
        with pytest.raises(NotFound):
            await call


async def test_an_update_that_sends_back_the_empty_header_values_it_read_keeps_them(
    world: World,
) -> None:
    created = await world.manager.create(
        draft(headers={"Authorization": "Bearer s3cret", "X-Team": "billing"})
    )
    read_back = {"Authorization": "", "X-Team": "payments", "X-New": ""}

    updated = await world.manager.update(draft(id=created.id, headers=read_back), ["headers"])

    assert updated.headers == {"Authorization": "Bearer s3cret", "X-Team": "payments", "X-New": ""}
    removed = await world.manager.update(draft(id=created.id, headers={"X-Team": ""}), ["headers"])
    assert removed.headers == {"X-Team": "payments"}
