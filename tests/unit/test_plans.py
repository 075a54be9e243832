"""Publish and outcome planning: the rules every store applies, as plain functions."""

from __future__ import annotations

import itertools

from broker.domain import (
    AttemptResult,
    Decision,
    Delivery,
    DeliveryState,
    Event,
    NewEvent,
    Outcome,
    Subscription,
    SubscriptionState,
    Verdict,
)
from broker.storage.plans import plan_outcomes, plan_publish

NOW = 1_700_000_000.0


def make_id_counter() -> object:
    counter = itertools.count()

    def make_id(prefix: str) -> str:
        return f"{prefix}_{next(counter):04d}"

    return make_id


def new(event_type: str, key: str = "") -> NewEvent:
    return NewEvent(event_type, b"{}", "application/json", {}, key)


def test_each_event_gets_one_delivery_per_distinct_matching_subscriber() -> None:
    plan = plan_publish(
        [new("invoice.paid"), new("order.created")],
        {},
        {"invoice.paid": ["sub_a"], "invoice.*": ["sub_a", "sub_b"], "*": ["sub_c"]},
        NOW,
        make_id_counter(),  # type: ignore[arg-type]
    )

    assert [r.queued for r in plan.results] == [3, 1]
    assert [(row[2], row[3]) for row in plan.delivery_rows] == [
        ("sub_a", "invoice.paid"),
        ("sub_b", "invoice.paid"),
        ("sub_c", "invoice.paid"),
        ("sub_c", "order.created"),
    ]
    assert len(plan.event_rows) == 2


def test_a_repeated_key_returns_the_original_and_writes_nothing() -> None:
    stored = Event("evt_old", "a.b", b"{}", "application/json", {}, "k-stored", NOW - 1)
    plan = plan_publish(
        [new("a.b", "k-stored"), new("a.b", "k-new"), new("a.b", "k-new")],
        {"k-stored": stored},
        {"*": ["sub_a"]},
        NOW,
        make_id_counter(),  # type: ignore[arg-type]
    )

    first, fresh, repeat = plan.results
    assert first.duplicate and first.event is stored
    assert not fresh.duplicate and repeat.duplicate and repeat.event is fresh.event
    assert len(plan.event_rows) == 1 and len(plan.delivery_rows) == 1


def delivery(lease_id: str = "lse_1", state: DeliveryState = DeliveryState.PENDING) -> Delivery:
    return Delivery(
        "dlv_1", "evt_1", "sub_1", "a.b", state, 0, NOW, "", 0, NOW, NOW, lease_id=lease_id
    )


def outcome(lease_id: str = "lse_1", status: int = 500) -> Outcome:
    result = AttemptResult.SUCCEEDED if status < 300 else AttemptResult.FAILED
    return Outcome("dlv_1", lease_id, result, status, NOW, 0.2, "", "", None)


SUBSCRIPTION = Subscription("sub_1", "https://x.example/h", ["*"], "whsec_x")


def test_an_outcome_records_the_attempt_and_the_verdicts_state() -> None:
    plan = plan_outcomes(
        [outcome(status=500)],
        {"dlv_1": delivery()},
        {"sub_1": SUBSCRIPTION},
        lambda o, d, s: Decision(Verdict.RETRY, NOW + 5),
        NOW,
        make_id_counter(),  # type: ignore[arg-type]
    )

    [attempt] = plan.attempt_rows
    [update] = plan.delivery_updates
    assert attempt["error"] == "HTTP 500" and attempt["attempt_number"] == 1
    assert update["state"] == "PENDING" and update["next_attempt_time"] == NOW + 5
    assert [h["id"] for h in plan.failing] == ["sub_1"] and plan.healthy == []


def test_a_late_report_of_a_lease_handed_to_someone_else_is_ignored() -> None:
    plan = plan_outcomes(
        [outcome(lease_id="lse_old"), outcome(lease_id="")],
        {"dlv_1": delivery(lease_id="lse_new")},
        {"sub_1": SUBSCRIPTION},
        lambda o, d, s: Decision(Verdict.DELIVERED),
        NOW,
        make_id_counter(),  # type: ignore[arg-type]
    )
    assert plan.applied == [] and plan.attempt_rows == [] and plan.delivery_updates == []


def test_gone_disables_a_queueing_subscription_once() -> None:
    decide = lambda o, d, s: Decision(Verdict.GONE, disable_reason="410")  # noqa: E731
    plan = plan_outcomes(
        [outcome(status=410)],
        {"dlv_1": delivery()},
        {"sub_1": SUBSCRIPTION},
        decide,
        NOW,
        make_id_counter(),  # type: ignore[arg-type]
    )
    assert [d["id"] for d in plan.disabled] == ["sub_1"]
    assert plan.delivery_updates[0]["state"] == "FAILED"

    disabled = Subscription(
        "sub_1", "https://x.example/h", ["*"], "whsec_x", state=SubscriptionState.DISABLED
    )
    again = plan_outcomes(
        [outcome(status=410)],
        {"dlv_1": delivery()},
        {"sub_1": disabled},
        decide,
        NOW,
        make_id_counter(),  # type: ignore[arg-type]
    )
    assert again.disabled == []
