"""What a publish or an outcome report writes, worked out in plain Python.

Each store reads what a plan needs, calls the plan, and writes its rows in the same
transaction; the rules live here once for every database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from broker.domain import (
    DELIVERY_STATE_FOR,
    QUEUEING_STATES,
    Attempt,
    Decision,
    Delivery,
    DeliveryState,
    Event,
    NewEvent,
    Outcome,
    PublishResult,
    Subscription,
    Verdict,
)
from broker.patterns import candidate_patterns, matches
from broker.storage.contract import Decide, MakeId
from broker.storage.rows import attempt_params, delivery_values, event_values


@dataclass
class PublishPlan:
    results: list[PublishResult] = field(default_factory=list)
    event_rows: list[tuple[Any, ...]] = field(default_factory=list)
    delivery_rows: list[tuple[Any, ...]] = field(default_factory=list)


def patterns_for(events: Sequence[NewEvent]) -> list[str]:
    """Every pattern that could match any of the events."""
    return sorted({p for event in events for p in candidate_patterns(event.type)})


def plan_publish(
    events: Sequence[NewEvent],
    stored_by_key: Mapping[str, Event],
    subscribers_by_pattern: Mapping[str, Sequence[str]],
    now: float,
    make_id: MakeId,
    targets: Sequence[Sequence[str]] = (),
) -> PublishPlan:
    plan = PublishPlan()
    seen: dict[str, Event] = dict(stored_by_key)
    for index, new in enumerate(events):
        original = seen.get(new.idempotency_key) if new.idempotency_key else None
        if original is not None:
            plan.results.append(PublishResult(original, duplicate=True))
            continue
        event = Event(
            make_id("evt"),
            new.type,
            new.data,
            new.content_type,
            new.attributes,
            new.idempotency_key,
            now,
        )  # positional: this runs once per published event
        if new.idempotency_key:
            seen[new.idempotency_key] = event
        plan.event_rows.append(event_values(event))
        subscriber_ids = {
            sub_id
            for pattern in candidate_patterns(event.type)
            for sub_id in subscribers_by_pattern.get(pattern, ())
        }
        if index < len(targets):
            subscriber_ids.update(targets[index])
        plan.results.append(PublishResult(event, False, len(subscriber_ids)))
        for sub_id in sorted(subscriber_ids):
            plan.delivery_rows.append(
                delivery_values(make_id("dlv"), event.id, sub_id, event.type, now)
            )
    return plan


@dataclass
class OutcomePlan:
    applied: list[tuple[Outcome, Delivery, Decision]] = field(default_factory=list)
    newly_disabled: dict[str, tuple[Subscription, str]] = field(default_factory=dict)
    attempt_rows: list[dict[str, Any]] = field(default_factory=list)
    delivery_updates: list[dict[str, Any]] = field(default_factory=list)
    healthy: list[dict[str, Any]] = field(default_factory=list)
    failing: list[dict[str, Any]] = field(default_factory=list)
    disabled: list[dict[str, Any]] = field(default_factory=list)


def plan_outcomes(
    outcomes: Sequence[Outcome],
    deliveries: Mapping[str, Delivery],
    subscriptions: Mapping[str, Subscription],
    decide: Decide,
    now: float,
    make_id: MakeId,
) -> OutcomePlan:
    plan = OutcomePlan()
    for outcome in outcomes:
        delivery = deliveries.get(outcome.delivery_id)
        if (
            delivery is None
            or delivery.state is not DeliveryState.PENDING
            or not outcome.lease_id
            or delivery.lease_id != outcome.lease_id
        ):
            continue  # a late report of a lease that expired and was handed to someone else
        subscription = subscriptions.get(delivery.subscription_id)
        if subscription is None:
            continue
        decision = decide(outcome, delivery, subscription)
        number = delivery.attempt_count + 1
        error = outcome.error_text
        plan.applied.append((outcome, delivery, decision))
        plan.attempt_rows.append(
            attempt_params(
                Attempt(
                    id=make_id("att"),
                    delivery_id=delivery.id,
                    attempt_number=number,
                    attempt_time=outcome.attempt_time,
                    status_code=outcome.status_code,
                    latency=outcome.latency,
                    error=error,
                    response_body=outcome.response_body,
                    result=outcome.result,
                )
            )
        )
        plan.delivery_updates.append(
            {
                "id": delivery.id,
                "lease_id": outcome.lease_id,
                "state": DELIVERY_STATE_FOR[decision.verdict].value,
                "attempt_count": number,
                "next_attempt_time": decision.next_attempt_time or now,
                "last_error": error,
                "last_status_code": outcome.status_code,
                "now": now,
            }
        )
        health = plan.healthy if decision.verdict is Verdict.DELIVERED else plan.failing
        if not health or health[-1]["id"] != subscription.id:
            health.append({"id": subscription.id, "now": now})
        if (
            decision.disable_reason
            and subscription.state in QUEUEING_STATES
            and subscription.id not in plan.newly_disabled
        ):
            plan.disabled.append(
                {"id": subscription.id, "reason": decision.disable_reason, "now": now}
            )
            plan.newly_disabled[subscription.id] = (subscription, decision.disable_reason)
    return plan


def replay_rows(
    subscription: Subscription, events: Sequence[tuple[str, str]], now: float, make_id: MakeId
) -> list[tuple[Any, ...]]:
    """A new delivery row for each (event id, type) that the subscription's patterns match."""
    return [
        delivery_values(make_id("dlv"), event_id, subscription.id, event_type, now)
        for event_id, event_type in events
        if any(matches(p, event_type) for p in subscription.event_types)
    ]


def within_room(
    candidates: Sequence[tuple[str, str]], room: Callable[[str], int] | None
) -> list[str]:
    """Delivery ids from (delivery id, subscription id) candidates, at most room(sub) each."""
    if room is None:
        return [delivery_id for delivery_id, _ in candidates]
    left: dict[str, int] = {}
    chosen = []
    for delivery_id, sub_id in candidates:
        if sub_id not in left:
            left[sub_id] = room(sub_id)
        if left[sub_id] > 0:
            left[sub_id] -= 1
            chosen.append(delivery_id)
    return chosen
