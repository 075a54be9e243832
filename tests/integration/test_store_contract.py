"""The store contract, run against every store implementation on a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from broker.clock import ManualClock, SeededRandom
from broker.domain import (
    AttemptResult,
    Decision,
    Delivery,
    DeliveryState,
    Lease,
    NewEvent,
    Outcome,
    Subscription,
    SubscriptionState,
    VerificationMode,
)
from broker.ids import IdFactory
from broker.retry_policy import RetryPolicy
from broker.storage.contract import Decide, Store
from broker.storage.sqlite import SqliteStore

NOW = 1_700_000_000.0


@pytest.fixture(params=["sqlite"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    opened = await SqliteStore.open(str(tmp_path / "contract.db"))
    yield opened
    await opened.close()


@pytest.fixture
def ids() -> IdFactory:
    return IdFactory(ManualClock(NOW), SeededRandom(7))


def event(event_type: str = "invoice.paid", key: str = "") -> NewEvent:
    return NewEvent(event_type, b'{"n": 1}', "application/json", {"k": "v"}, key)


async def subscribe(
    store: Store,
    ids: IdFactory,
    patterns: list[str],
    state: SubscriptionState = SubscriptionState.ACTIVE,
) -> Subscription:
    sub = Subscription(
        id=ids.new("sub"),
        url="https://example.com/hook",
        event_types=patterns,
        secret="whsec_" + "A" * 32,
        verification=VerificationMode.NONE,
        expire_time=NOW + 86400,
        state=state,
        create_time=NOW,
        update_time=NOW,
    )
    await store.create_subscription(sub)
    return sub


def decide_with(policy: RetryPolicy) -> Decide:
    def decide(outcome: Outcome, delivery: Delivery, sub: Subscription) -> Decision:
        return policy.decide(outcome, delivery.attempt_count + 1, sub.retry_schedule,
                             sub.failing_since, NOW, SeededRandom())  # fmt: skip

    return decide


def outcome_for(lease: Lease, result: AttemptResult, status: int) -> Outcome:
    return Outcome(lease.delivery.id, lease.lease_id, result, status, NOW, 0.01, "", "", None)


async def test_publish_queues_one_delivery_per_matching_subscription(
    store: Store, ids: IdFactory
) -> None:
    exact = await subscribe(store, ids, ["invoice.paid"])
    wildcard = await subscribe(store, ids, ["invoice.*", "*"])
    await subscribe(store, ids, ["order.*"])
    paused = await subscribe(store, ids, ["*"], SubscriptionState.PAUSED)
    await subscribe(store, ids, ["*"], SubscriptionState.DISABLED)

    [result] = await store.publish([event()], NOW, ids.new)

    assert not result.duplicate
    stored = await store.get_event(result.event.id)
    assert stored == result.event
    deliveries = await store.list_deliveries("", 100, "", result.event.id, None)
    assert sorted(d.subscription_id for d in deliveries) == sorted(
        [exact.id, wildcard.id, paused.id]
    )
    assert all(d.state is DeliveryState.PENDING for d in deliveries)


async def test_idempotency_key_returns_original_within_and_across_batches(
    store: Store, ids: IdFactory
) -> None:
    await subscribe(store, ids, ["*"])
    first, again = await store.publish([event(key="k1"), event(key="k1")], NOW, ids.new)
    [later] = await store.publish([event(key="k1")], NOW, ids.new)
    assert (first.duplicate, again.duplicate, later.duplicate) == (False, True, True)
    assert first.event.id == again.event.id == later.event.id
    assert len(await store.list_events("", 10, "")) == 1
    assert len(await store.list_deliveries("", 10, "", "", None)) == 1


async def test_lease_only_due_deliveries_of_active_subscriptions(
    store: Store, ids: IdFactory
) -> None:
    active = await subscribe(store, ids, ["*"])
    await subscribe(store, ids, ["*"], SubscriptionState.PAUSED)
    await store.publish([event()], NOW, ids.new)

    leases = await store.lease(NOW, 10, NOW + 60, "lse_a")
    assert [lease.subscription.id for lease in leases] == [active.id]
    assert leases[0].event.data == b'{"n": 1}'
    assert await store.lease(NOW, 10, NOW + 60, "lse_b") == []
    # An unreported lease falls due again when it expires.
    assert await store.next_due_time(NOW) == NOW + 60
    # Once the subscription's lifetime has ended nothing of it is due, swept or not.
    assert await store.next_due_time(NOW + 86400) is None
    again = await store.lease(NOW + 61, 10, NOW + 121, "lse_c")
    assert [lease.delivery.id for lease in again] == [leases[0].delivery.id]


async def test_a_held_back_subscription_hides_none_of_the_others_work(
    store: Store, ids: IdFactory
) -> None:
    held = await subscribe(store, ids, ["held.*"])
    other = await subscribe(store, ids, ["other.*"])
    await store.publish([event("held.x") for _ in range(5)], NOW, ids.new)
    await store.publish([event("other.x") for _ in range(3)], NOW + 1, ids.new)
    await store.publish([event("held.x")], NOW + 2, ids.new)

    # The held-back backlog is older, yet the lease takes the other's work, oldest first.
    first = await store.lease(NOW + 5, 2, NOW + 60, "lse_a", [held.id])
    assert [lease.subscription.id for lease in first] == [other.id, other.id]
    assert await store.next_due_time(NOW + 5, [held.id]) == NOW + 1
    [last] = await store.lease(NOW + 5, 10, NOW + 60, "lse_b", [held.id])
    assert last.subscription.id == other.id
    assert await store.next_due_time(NOW + 5, [held.id]) == NOW + 60
    assert await store.next_due_time(NOW + 5, [held.id, other.id]) is None

    # Released, its backlog comes whole and in order.
    released = await store.lease(NOW + 5, 10, NOW + 60, "lse_c")
    assert [lease.subscription.id for lease in released] == [held.id] * 6
    assert [lease.delivery.create_time for lease in released] == [NOW] * 5 + [NOW + 2]


async def test_outcomes_apply_once_and_stale_leases_are_ignored(
    store: Store, ids: IdFactory
) -> None:
    await subscribe(store, ids, ["*"])
    await store.publish([event()], NOW, ids.new)
    [old] = await store.lease(NOW, 10, NOW + 60, "lse_old")
    [new] = await store.lease(NOW + 61, 10, NOW + 121, "lse_new")
    decide = decide_with(RetryPolicy(jitter=0))

    stale = await store.record_outcomes(
        [outcome_for(old, AttemptResult.SUCCEEDED, 200)],
        decide,
        NOW,
        ids.new,
    )
    assert stale.applied == []
    applied = await store.record_outcomes(
        [outcome_for(new, AttemptResult.FAILED, 500)],
        decide,
        NOW,
        ids.new,
    )
    assert len(applied.applied) == 1
    delivery = await store.get_delivery(new.delivery.id)
    assert delivery is not None
    assert (delivery.state, delivery.attempt_count, delivery.last_status_code) == (
        DeliveryState.PENDING, 1, 500,
    )  # fmt: skip
    assert delivery.next_attempt_time == NOW + 5
    attempts = await store.list_attempts(delivery.id, "", 10)
    assert [(a.attempt_number, a.status_code, a.result) for a in attempts] == [
        (1, 500, AttemptResult.FAILED)
    ]


async def test_gone_disables_subscription_and_fails_delivery(store: Store, ids: IdFactory) -> None:
    sub = await subscribe(store, ids, ["*"])
    await store.publish([event()], NOW, ids.new)
    [lease] = await store.lease(NOW, 10, NOW + 60, "lse_1")
    await store.record_outcomes(
        [outcome_for(lease, AttemptResult.GONE, 410)],
        decide_with(RetryPolicy()),
        NOW,
        ids.new,
    )
    stored = await store.get_subscription(sub.id)
    assert stored is not None and stored.state is SubscriptionState.DISABLED
    assert "410" in stored.disabled_reason
    delivery = await store.get_delivery(lease.delivery.id)
    assert delivery is not None and delivery.state is DeliveryState.FAILED
    await store.publish([event()], NOW, ids.new)
    assert len(await store.list_deliveries("", 10, sub.id, "", None)) == 1


async def test_retry_revives_and_delete_cancels(store: Store, ids: IdFactory) -> None:
    sub = await subscribe(store, ids, ["*"])
    await store.publish([event()], NOW, ids.new)
    [lease] = await store.lease(NOW, 10, NOW + 60, "lse_1")
    await store.record_outcomes(
        [outcome_for(lease, AttemptResult.SUCCEEDED, 200)],
        decide_with(RetryPolicy()),
        NOW,
        ids.new,
    )
    revived = await store.retry_delivery(lease.delivery.id, NOW + 1)
    assert revived is not None and revived.state is DeliveryState.PENDING
    assert await store.retry_delivery("dlv_missing", NOW) is None

    assert await store.delete_subscription(sub.id, NOW + 2)
    assert await store.get_subscription(sub.id) is None
    cancelled = await store.get_delivery(lease.delivery.id)
    assert cancelled is not None and cancelled.state is DeliveryState.FAILED
    assert await store.lease(NOW + 10, 10, NOW + 70, "lse_2") == []
    assert not await store.delete_subscription(sub.id, NOW)


async def test_update_rewrites_patterns(store: Store, ids: IdFactory) -> None:
    sub = await subscribe(store, ids, ["order.*"])
    sub.event_types = ["invoice.*"]
    assert await store.update_subscription(sub, sub.update_time)
    assert not await store.update_subscription(sub, sub.update_time - 1)
    [result] = await store.publish([event("invoice.paid")], NOW, ids.new)
    assert len(await store.list_deliveries("", 10, sub.id, "", None)) == 1
    [other] = await store.publish([event("order.created")], NOW, ids.new)
    assert await store.list_deliveries("", 10, "", other.event.id, None) == []
    del result


async def test_list_events_filters_by_pattern(store: Store, ids: IdFactory) -> None:
    await store.publish(
        [event("invoice.paid"), event("invoice.sent"), event("order.created")], NOW, ids.new
    )
    assert [e.type for e in await store.list_events("", 10, "invoice.*")] == [
        "invoice.paid",
        "invoice.sent",
    ]
    assert [e.type for e in await store.list_events("", 10, "order.created")] == ["order.created"]
    assert len(await store.list_events("", 10, "")) == 3
