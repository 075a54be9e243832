"""Row ⇄ domain translation shared by the SQL stores (rows arrive as name → value maps).

Secrets are sealed here on the way in and opened on the way out (`sealing`), so the
store's callers only ever see them in clear and the file never holds them so."""

from __future__ import annotations

import json
from typing import Any, Protocol

from broker.domain import (
    ApiToken,
    Attempt,
    AttemptResult,
    Delivery,
    DeliveryState,
    Event,
    PayloadMode,
    Role,
    SigningAlgorithm,
    Source,
    Subscription,
    SubscriptionState,
    VerificationMode,
)
from broker.storage.sealing import Sealer


class Row(Protocol):
    """What a driver row offers: values by column name."""

    def __getitem__(self, key: str, /) -> Any: ...


def dumps(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def event_from(row: Row) -> Event:
    return Event(
        id=row["id"],
        type=row["type"],
        data=bytes(row["data"]),
        content_type=row["content_type"],
        attributes=json.loads(row["attributes"]),
        idempotency_key=row["idempotency_key"] or "",
        create_time=row["create_time"],
    )


def event_values(event: Event) -> tuple[Any, ...]:
    """The `insert_event` row, positionally (so that many rows fit one statement)."""
    return (
        event.id,
        event.type,
        event.data,
        event.content_type,
        dumps(event.attributes) if event.attributes else "{}",
        event.idempotency_key or None,
        event.create_time,
    )


def delivery_values(
    delivery_id: str, event_id: str, subscription_id: str, event_type: str, now: float
) -> tuple[Any, ...]:
    """The `insert_delivery` row of a new PENDING delivery, due now."""
    return (delivery_id, event_id, subscription_id, event_type, now, now, now)


def subscription_from(row: Row, sealer: Sealer) -> Subscription:
    return Subscription(
        id=row["id"],
        url=row["url"],
        event_types=json.loads(row["event_types"]),
        secret=sealer.open(row["secret"], row["id"], "secret"),
        headers=json.loads(row["headers"]),
        properties=json.loads(row["properties"]),
        client_state=row["client_state"],
        payload_mode=PayloadMode(row["payload_mode"]),
        verification=VerificationMode(row["verification"]),
        expire_time=row["expire_time"],
        state=SubscriptionState(row["state"]),
        description=row["description"],
        create_time=row["create_time"],
        update_time=row["update_time"],
        retry_schedule=json.loads(row["retry_schedule"]),
        disabled_reason=row["disabled_reason"],
        failing_since=row["failing_since"],
        rate_limit=row["rate_limit"],
        signing_algorithm=SigningAlgorithm(row["signing_algorithm"]),
        public_key=row["public_key"],
        previous_secret=sealer.open(row["previous_secret"] or "", row["id"], "previous_secret"),
        previous_secret_expire_time=row["previous_secret_expire_time"] or 0.0,
        expiring_notified=bool(row["expiring_notified"]),
    )


def subscription_params(sub: Subscription, sealer: Sealer) -> dict[str, Any]:
    return {
        "id": sub.id,
        "url": sub.url,
        "event_types": dumps(sub.event_types),
        "secret": sealer.seal(sub.secret, sub.id, "secret"),
        "headers": dumps(sub.headers),
        "properties": dumps(sub.properties),
        "client_state": sub.client_state,
        "payload_mode": sub.payload_mode.value,
        "verification": sub.verification.value,
        "expire_time": sub.expire_time,
        "state": sub.state.value,
        "description": sub.description,
        "create_time": sub.create_time,
        "update_time": sub.update_time,
        "retry_schedule": dumps(sub.retry_schedule),
        "disabled_reason": sub.disabled_reason,
        "failing_since": sub.failing_since,
        "rate_limit": sub.rate_limit,
        "signing_algorithm": sub.signing_algorithm.value,
        "public_key": sub.public_key,
        "previous_secret": sealer.seal(sub.previous_secret, sub.id, "previous_secret") or None,
        "previous_secret_expire_time": sub.previous_secret_expire_time or None,
        "expiring_notified": int(sub.expiring_notified),
    }


def delivery_from(row: Row) -> Delivery:
    return Delivery(
        id=row["id"],
        event_id=row["event_id"],
        subscription_id=row["subscription_id"],
        event_type=row["event_type"],
        state=DeliveryState(row["state"]),
        attempt_count=row["attempt_count"],
        next_attempt_time=row["next_attempt_time"],
        last_error=row["last_error"],
        last_status_code=row["last_status_code"],
        create_time=row["create_time"],
        update_time=row["update_time"],
        lease_id=row["lease_id"],
    )


def attempt_from(row: Row) -> Attempt:
    return Attempt(
        id=row["id"],
        delivery_id=row["delivery_id"],
        attempt_number=row["attempt_number"],
        attempt_time=row["attempt_time"],
        status_code=row["status_code"],
        latency=row["latency"],
        error=row["error"],
        response_body=row["response_body"],
        result=AttemptResult(row["result"]),
    )


def attempt_params(attempt: Attempt) -> dict[str, Any]:
    return {
        "id": attempt.id,
        "delivery_id": attempt.delivery_id,
        "attempt_number": attempt.attempt_number,
        "attempt_time": attempt.attempt_time,
        "status_code": attempt.status_code,
        "latency": attempt.latency,
        "error": attempt.error,
        "response_body": attempt.response_body,
        "result": attempt.result.value,
    }


def source_from(row: Row, sealer: Sealer) -> Source:
    return Source(
        id=row["id"],
        provider=row["provider"],
        secret=sealer.open(row["secret"], row["id"], "secret"),
        event_type_prefix=row["event_type_prefix"],
        options=json.loads(row["options"]),
        description=row["description"],
        create_time=row["create_time"],
        previous_secret=sealer.open(row["previous_secret"], row["id"], "previous_secret"),
        previous_secret_expire_time=row["previous_secret_expire_time"],
        delete_time=row["delete_time"],
    )


def source_params(source: Source, sealer: Sealer) -> dict[str, Any]:
    return {
        "id": source.id,
        "provider": source.provider,
        "secret": sealer.seal(source.secret, source.id, "secret"),
        "previous_secret": sealer.seal(source.previous_secret, source.id, "previous_secret"),
        "previous_secret_expire_time": source.previous_secret_expire_time,
        "event_type_prefix": source.event_type_prefix,
        "options": dumps(source.options),
        "description": source.description,
        "create_time": source.create_time,
        "delete_time": source.delete_time,
    }


def api_token_from(row: Row) -> ApiToken:
    return ApiToken(
        id=row["id"],
        role=Role(row["role"]),
        event_types=json.loads(row["event_types"]),
        description=row["description"],
        secret_hash=row["secret_hash"],
        create_time=row["create_time"],
        expire_time=row["expire_time"],
        revoke_time=row["revoke_time"],
    )


def api_token_params(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "role": token.role.value,
        "event_types": dumps(token.event_types),
        "description": token.description,
        "secret_hash": token.secret_hash,
        "create_time": token.create_time,
        "expire_time": token.expire_time,
        "revoke_time": token.revoke_time,
    }
