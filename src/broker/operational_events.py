"""Operational events: what the broker itself has to say, published on the bus like any
other event so that anyone may subscribe (`hookwire.*`)."""

from __future__ import annotations

import json
from collections.abc import Sequence

from broker.domain import JSON, Decision, Delivery, NewEvent, Outcome, Subscription, Verdict

PREFIX = "hookwire."


def _event(event_type: str, key: str, payload: dict[str, object]) -> NewEvent:
    data = json.dumps(payload, separators=(",", ":")).encode()
    return NewEvent(event_type, data, JSON, {"source": "hookwire"}, key)


def subscription_disabled(sub: Subscription, reason: str, now: float) -> NewEvent:
    return _event(
        "hookwire.subscription.disabled",
        f"hookwire.subscription.disabled:{sub.id}:{now:.6f}",
        {"subscription_id": sub.id, "url": sub.url, "reason": reason},
    )


def subscription_expiring(sub: Subscription) -> NewEvent:
    return _event(
        "hookwire.subscription.expiring",
        f"hookwire.subscription.expiring:{sub.id}:{sub.expire_time:.6f}",
        {"subscription_id": sub.id, "url": sub.url, "expire_time": sub.expire_time},
    )


def subscription_expired(sub: Subscription) -> NewEvent:
    return _event(
        "hookwire.subscription.expired",
        f"hookwire.subscription.expired:{sub.id}:{sub.expire_time:.6f}",
        {"subscription_id": sub.id, "url": sub.url, "expire_time": sub.expire_time},
    )


def delivery_exhausted(outcome: Outcome, delivery: Delivery) -> NewEvent:
    return _event(
        "hookwire.delivery.exhausted",
        f"hookwire.delivery.exhausted:{delivery.id}:{delivery.attempt_count + 1}",
        {
            "delivery_id": delivery.id,
            "event_id": delivery.event_id,
            "event_type": delivery.event_type,
            "subscription_id": delivery.subscription_id,
            "attempts": delivery.attempt_count + 1,
            "last_status_code": outcome.status_code,
            "last_error": outcome.error_text,
        },
    )


def for_outcomes(
    applied: Sequence[tuple[Outcome, Delivery, Decision]],
    disabled: Sequence[tuple[Subscription, str]],
    now: float,
) -> list[NewEvent]:
    """Events for what a batch of outcomes changed. Deliveries of operational events do
    not themselves raise `exhausted`, so a failing `hookwire.*` subscriber cannot start
    an endless chain."""
    events = [subscription_disabled(sub, reason, now) for sub, reason in disabled]
    events += [
        delivery_exhausted(outcome, delivery)
        for outcome, delivery, decision in applied
        if decision.verdict is Verdict.EXHAUSTED and not delivery.event_type.startswith(PREFIX)
    ]
    return events
