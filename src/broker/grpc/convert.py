"""Protobuf ⇄ domain. Protobuf types stop here: nothing behind the servicers sees them.

Times use the well-known types' own conversions; each enum is mapped through one table
built from the names both sides share, so a value the broker does not know is
INVALID_ARGUMENT naming the field, never a crash.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Generic, Protocol, TypeVar

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from broker.domain import (
    ApiToken,
    Attempt,
    AttemptResult,
    Delivery,
    DeliveryState,
    Event,
    Lease,
    Outcome,
    PayloadMode,
    PublishResult,
    Role,
    SigningAlgorithm,
    Source,
    Subscription,
    SubscriptionState,
    VerificationMode,
    VerificationResult,
    VerificationTask,
)
from broker.errors import InvalidArgument
from broker.source_rules import CONNECTOR
from hookwire.v1 import deliveries_pb2, events_pb2, sources_pb2, subscriptions_pb2, tokens_pb2

E = TypeVar("E", bound=StrEnum)


class WireEnum(Protocol):
    """A generated protobuf enum (its name → number lookup)."""

    def Value(self, name: str) -> Any: ...


class EnumTable(Generic[E]):
    """A domain enum and its protobuf twin, whose values are the domain's names behind a
    prefix (`PAYLOAD_MODE_` + `FULL`); 0 is the protobuf's UNSPECIFIED."""

    def __init__(self, wire: WireEnum, domain: type[E], prefix: str) -> None:
        self.to_wire: dict[E, int] = {
            member: wire.Value(prefix + member.value) for member in domain
        }
        self._from_wire = {number: member for member, number in self.to_wire.items()}

    def from_wire(self, value: int, field: str) -> E | None:
        """The domain value; None for UNSPECIFIED; INVALID_ARGUMENT naming `field` for a
        number the broker does not know."""
        if not value:
            return None
        member = self._from_wire.get(value)
        if member is None:
            raise InvalidArgument(field, f"{value} is not a known value")
        return member


PAYLOAD_MODES = EnumTable(subscriptions_pb2.PayloadMode, PayloadMode, "PAYLOAD_MODE_")
VERIFICATION_MODES = EnumTable(
    subscriptions_pb2.VerificationMode, VerificationMode, "VERIFICATION_MODE_"
)
SUBSCRIPTION_STATES = EnumTable(
    subscriptions_pb2.SubscriptionState, SubscriptionState, "SUBSCRIPTION_STATE_"
)
SIGNING_ALGORITHMS = EnumTable(
    subscriptions_pb2.SigningAlgorithm, SigningAlgorithm, "SIGNING_ALGORITHM_"
)
DELIVERY_STATES = EnumTable(deliveries_pb2.DeliveryState, DeliveryState, "DELIVERY_STATE_")
ATTEMPT_RESULTS = EnumTable(deliveries_pb2.AttemptResult, AttemptResult, "ATTEMPT_RESULT_")
ROLES = EnumTable(tokens_pb2.Role, Role, "ROLE_")


# -- time -------------------------------------------------------------------------------


def fill_timestamp(target: Timestamp, seconds: float) -> None:
    """Set a Timestamp field in place (a built one would be copied in)."""
    target.FromNanoseconds(round(seconds * 1e9))


def timestamp(seconds: float) -> Timestamp:
    message = Timestamp()
    fill_timestamp(message, seconds)
    return message


def seconds_of(message: Timestamp | Duration, field: str = "") -> float:
    """Seconds; INVALID_ARGUMENT naming `field` (or the type) when seconds and nanos are
    out of the range protobuf defines for the type."""
    try:
        return message.ToNanoseconds() / 1e9
    except ValueError:
        name = message.DESCRIPTOR.name
        raise InvalidArgument(field or name, f"is not a valid {name}") from None


def seconds_if_set(message: Any, name: str, field: str = "") -> float | None:
    """The Timestamp or Duration field `name` of `message` in seconds; None when unset."""
    if not message.HasField(name):
        return None
    return seconds_of(getattr(message, name), field or name)


def duration(seconds: float) -> Duration:
    message = Duration()
    message.FromNanoseconds(round(seconds * 1e9))
    return message


# -- events -----------------------------------------------------------------------------


def fill_event(target: events_pb2.Event, event: Event, *, include_data: bool = True) -> None:
    """Set an `Event` message in place, inside the message that holds it: assigning a
    built one would copy it (data included). Runs once per event published."""
    target.id = event.id
    target.type = event.type
    if include_data:
        target.data = event.data
    target.content_type = event.content_type
    if event.attributes:
        target.attributes.update(event.attributes)
    if event.idempotency_key:
        target.idempotency_key = event.idempotency_key
    fill_timestamp(target.create_time, event.create_time)


def event_pb(event: Event) -> events_pb2.Event:
    message = events_pb2.Event()
    fill_event(message, event)
    return message


def publish_response_pb(
    result: PublishResult, include_data: bool
) -> events_pb2.PublishEventResponse:
    response = events_pb2.PublishEventResponse(duplicate=result.duplicate)
    fill_event(response.event, result.event, include_data=include_data)
    return response


def publish_responses_pb(
    results: Sequence[PublishResult], requests: Sequence[events_pb2.PublishEventRequest]
) -> events_pb2.PublishEventsResponse:
    response = events_pb2.PublishEventsResponse()
    add = response.results.add
    for result, request in zip(results, requests, strict=True):
        fill_event(
            add(duplicate=result.duplicate).event, result.event, include_data=request.include_data
        )
    return response


# -- subscriptions ----------------------------------------------------------------------


def subscription_pb(
    sub: Subscription, *, with_secret: bool = False
) -> subscriptions_pb2.Subscription:
    """The subscription as clients see it; the secret only when asked and only if shared
    (an Ed25519 private key never leaves). Header values are write-only like the secret
    (they are often credentials: `Authorization: Bearer ...`): only their names are shown;
    the gateway gets the values through `target_pb`."""
    shared = sub.signing_algorithm is SigningAlgorithm.HMAC_SHA256
    return subscriptions_pb2.Subscription(
        id=sub.id,
        url=sub.url,
        event_types=sub.event_types,
        secret=sub.secret if with_secret and shared else "",
        headers=dict.fromkeys(sub.headers, ""),
        properties=sub.properties,
        client_state=sub.client_state,
        payload_mode=PAYLOAD_MODES.to_wire[sub.payload_mode],  # type: ignore[arg-type]
        verification=VERIFICATION_MODES.to_wire[sub.verification],  # type: ignore[arg-type]
        expire_time=timestamp(sub.expire_time),
        state=SUBSCRIPTION_STATES.to_wire[sub.state],  # type: ignore[arg-type]
        description=sub.description,
        create_time=timestamp(sub.create_time),
        update_time=timestamp(sub.update_time),
        retry_schedule=[duration(s) for s in sub.retry_schedule],
        disabled_reason=sub.disabled_reason,
        rate_limit=sub.rate_limit,
        signing_algorithm=SIGNING_ALGORITHMS.to_wire[sub.signing_algorithm],  # type: ignore[arg-type]
        public_key=sub.public_key,
    )


def subscription_from_pb(msg: subscriptions_pb2.Subscription) -> Subscription:
    """A draft subscription from a request; output-only fields are left at defaults."""
    f = "subscription."
    return Subscription(
        id=msg.id,
        url=msg.url,
        event_types=list(msg.event_types),
        secret=msg.secret,
        headers=dict(msg.headers),
        properties=dict(msg.properties),
        client_state=msg.client_state,
        payload_mode=PAYLOAD_MODES.from_wire(msg.payload_mode, f + "payload_mode")
        or PayloadMode.FULL,
        verification=VERIFICATION_MODES.from_wire(msg.verification, f + "verification")
        or VerificationMode.ECHO_TOKEN,
        expire_time=seconds_of(msg.expire_time, f + "expire_time")
        if msg.HasField("expire_time")
        else 0.0,
        description=msg.description,
        retry_schedule=[seconds_of(d, f + "retry_schedule") for d in msg.retry_schedule],
        rate_limit=msg.rate_limit,
        signing_algorithm=SIGNING_ALGORITHMS.from_wire(
            msg.signing_algorithm, f + "signing_algorithm"
        )
        or SigningAlgorithm.HMAC_SHA256,
    )


# -- deliveries -------------------------------------------------------------------------


def delivery_pb(d: Delivery) -> deliveries_pb2.Delivery:
    return deliveries_pb2.Delivery(
        id=d.id,
        event_id=d.event_id,
        subscription_id=d.subscription_id,
        state=DELIVERY_STATES.to_wire[d.state],  # type: ignore[arg-type]
        attempt_count=d.attempt_count,
        next_attempt_time=timestamp(d.next_attempt_time),
        last_error=d.last_error,
        last_status_code=d.last_status_code,
        create_time=timestamp(d.create_time),
        update_time=timestamp(d.update_time),
        event_type=d.event_type,
    )


def attempt_pb(a: Attempt) -> deliveries_pb2.DeliveryAttempt:
    return deliveries_pb2.DeliveryAttempt(
        id=a.id,
        delivery_id=a.delivery_id,
        attempt_number=a.attempt_number,
        attempt_time=timestamp(a.attempt_time),
        status_code=a.status_code,
        latency=duration(a.latency),
        error=a.error,
        response_body=a.response_body,
        result=ATTEMPT_RESULTS.to_wire[a.result],  # type: ignore[arg-type]
    )


def leases_pb(
    leases: Sequence[Lease], timeout: float, now: float
) -> deliveries_pb2.LeaseDeliveriesResponse:
    """One lease batch, each event and target once. Events carry what a webhook is made
    of (id, type, data, content type, time): attributes and idempotency keys stay home."""
    response = deliveries_pb2.LeaseDeliveriesResponse(timeout=duration(timeout))
    events: set[str] = set()
    targets: set[str] = set()
    for lease in leases:
        event, sub = lease.event, lease.subscription
        if event.id not in events:
            events.add(event.id)
            leased = response.events.add(  # built in place: appending a message copies it
                id=event.id, type=event.type, data=event.data, content_type=event.content_type
            )
            fill_timestamp(leased.create_time, event.create_time)
        if sub.id not in targets:
            targets.add(sub.id)
            response.targets.append(target_pb(sub, now))
        response.deliveries.add(
            delivery_id=lease.delivery.id,
            event_id=event.id,
            subscription_id=sub.id,
            attempt_number=lease.delivery.attempt_count + 1,
            lease_id=lease.lease_id,
            fetch_token=lease.fetch_token,
        )
    if leases:
        fill_timestamp(response.lease_expire_time, leases[0].lease_expire_time)
    return response


def target_pb(sub: Subscription, now: float) -> deliveries_pb2.DeliveryTarget:
    return deliveries_pb2.DeliveryTarget(
        subscription_id=sub.id,
        url=sub.url,
        headers=sub.headers,
        properties=sub.properties,
        client_state=sub.client_state,
        payload_mode=PAYLOAD_MODES.to_wire[sub.payload_mode],  # type: ignore[arg-type]
        signing_secrets=sub.signing_secrets(now),
    )


def outcome_from_pb(msg: deliveries_pb2.DeliveryOutcome) -> Outcome:
    """A gateway's report; a result the broker does not know counts as FAILED."""
    try:
        result = ATTEMPT_RESULTS.from_wire(msg.result, "result") or AttemptResult.FAILED
    except InvalidArgument:
        result = AttemptResult.FAILED
    return Outcome(
        delivery_id=msg.delivery_id,
        lease_id=msg.lease_id,
        result=result,
        status_code=msg.status_code,
        attempt_time=_reported_seconds(msg.attempt_time),
        latency=_reported_seconds(msg.latency),
        error=msg.error[:1024],
        response_body=msg.response_body[:4096],
        retry_after=_reported_seconds(msg.retry_after) if msg.HasField("retry_after") else None,
    )


def _reported_seconds(message: Timestamp | Duration) -> float:
    """A time a gateway reported; one out of protobuf's range counts as 0 rather than
    breaking the stream that carried it."""
    try:
        return seconds_of(message)
    except InvalidArgument:
        return 0.0


def verification_task_pb(task: VerificationTask) -> deliveries_pb2.VerificationTask:
    return deliveries_pb2.VerificationTask(
        id=task.id,
        url=task.url,
        mode=VERIFICATION_MODES.to_wire[task.mode],  # type: ignore[arg-type]
        token=task.token,
        topic=task.topic,
        lease=duration(task.lease_seconds),
        timeout=duration(task.timeout),
        origin=task.origin,
    )


def verification_result_from_pb(msg: deliveries_pb2.VerificationOutcome) -> VerificationResult:
    return VerificationResult(msg.verified, msg.detail[:512], msg.allowed_rate)


# -- sources ----------------------------------------------------------------------------


def source_pb(
    source: Source, public_url: str, *, with_credential: bool = False
) -> sources_pb2.Source:
    """The source as clients see it. A connector's URL is its credential: shown only when
    asked (Create and Rotate), otherwise left empty."""
    url = f"{public_url.rstrip('/')}/in/{source.id}"
    if source.provider == CONNECTOR:
        url = f"{url}/{source.secret}" if with_credential else ""
    message = sources_pb2.Source(
        id=source.id,
        provider=source.provider,
        event_type_prefix=source.event_type_prefix,
        ingest_url=url,
        options=source.options,
        description=source.description,
        create_time=timestamp(source.create_time),
    )
    if source.previous_secret:
        fill_timestamp(message.previous_secret_expire_time, source.previous_secret_expire_time)
    return message


def source_from_pb(msg: sources_pb2.Source) -> Source:
    """A draft source from a request; output-only fields are left at defaults."""
    return Source(
        id="",
        provider=msg.provider,
        secret=msg.secret,
        event_type_prefix=msg.event_type_prefix,
        options=dict(msg.options),
        description=msg.description,
    )


# -- tokens -----------------------------------------------------------------------------


def token_pb(token: ApiToken) -> tokens_pb2.Token:
    """The token as listed: never its secret (nor the hash of it)."""
    message = tokens_pb2.Token(
        id=token.id,
        role=ROLES.to_wire[token.role],  # type: ignore[arg-type]
        event_types=token.event_types,
        description=token.description,
        create_time=timestamp(token.create_time),
    )
    if token.expire_time:
        fill_timestamp(message.expire_time, token.expire_time)
    if token.revoke_time:
        fill_timestamp(message.revoke_time, token.revoke_time)
    return message
