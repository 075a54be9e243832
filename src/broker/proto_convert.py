"""Protobuf ⇄ domain. Protobuf types stop here: nothing behind the servicers sees them."""

from __future__ import annotations

from collections.abc import Sequence

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from broker import fetch_tokens
from broker.domain import (
    Attempt,
    AttemptResult,
    Delivery,
    DeliveryState,
    Event,
    Lease,
    Outcome,
    PayloadMode,
    PublishResult,
    SigningAlgorithm,
    Subscription,
    SubscriptionState,
    VerificationMode,
)
from broker.verification import VerificationResult, VerificationTask
from hookwire.v1 import deliveries_pb2 as dpb
from hookwire.v1 import events_pb2 as epb
from hookwire.v1 import subscriptions_pb2 as spb


def fill_timestamp(target: Timestamp, seconds: float) -> None:
    whole = int(seconds)
    target.seconds = whole
    target.nanos = round((seconds - whole) * 1e9) % 1_000_000_000


def timestamp(seconds: float) -> Timestamp:
    message = Timestamp()
    fill_timestamp(message, seconds)
    return message


def seconds_of(ts: Timestamp) -> float:
    return ts.seconds + ts.nanos / 1e9


def duration(seconds: float) -> Duration:
    d = Duration()
    d.FromNanoseconds(round(seconds * 1e9))
    return d


def duration_seconds(d: Duration) -> float:
    return d.seconds + d.nanos / 1e9


def fill_event(target: epb.Event, event: Event) -> None:
    """Set an `Event` message in place, inside the message that holds it: assigning a
    built one would copy it (data included). Runs once per event published or leased."""
    target.id = event.id
    target.type = event.type
    target.data = event.data
    target.content_type = event.content_type
    if event.attributes:
        target.attributes.update(event.attributes)
    if event.idempotency_key:
        target.idempotency_key = event.idempotency_key
    fill_timestamp(target.create_time, event.create_time)


def event_pb(event: Event) -> epb.Event:
    message = epb.Event()
    fill_event(message, event)
    return message


def publish_response_pb(result: PublishResult) -> epb.PublishEventResponse:
    response = epb.PublishEventResponse(duplicate=result.duplicate)
    fill_event(response.event, result.event)
    return response


def publish_responses_pb(results: Sequence[PublishResult]) -> epb.PublishEventsResponse:
    response = epb.PublishEventsResponse()
    add = response.results.add
    for result in results:
        fill_event(add(duplicate=result.duplicate).event, result.event)
    return response


def subscription_pb(sub: Subscription, *, with_secret: bool = False) -> spb.Subscription:
    """The subscription as clients see it; the secret only when asked and only if shared
    (an Ed25519 private key never leaves)."""
    shared = sub.signing_algorithm is SigningAlgorithm.HMAC_SHA256
    return spb.Subscription(
        id=sub.id,
        url=sub.url,
        event_types=sub.event_types,
        secret=sub.secret if with_secret and shared else "",
        headers=sub.headers,
        properties=sub.properties,
        client_state=sub.client_state,
        payload_mode=spb.PayloadMode.Value(f"PAYLOAD_MODE_{sub.payload_mode.value}"),
        verification=spb.VerificationMode.Value(f"VERIFICATION_MODE_{sub.verification.value}"),
        expire_time=timestamp(sub.expire_time),
        state=spb.SubscriptionState.Value(f"SUBSCRIPTION_STATE_{sub.state.value}"),
        description=sub.description,
        create_time=timestamp(sub.create_time),
        update_time=timestamp(sub.update_time),
        retry_schedule=[duration(s) for s in sub.retry_schedule],
        disabled_reason=sub.disabled_reason,
        rate_limit=sub.rate_limit,
        signing_algorithm=spb.SigningAlgorithm.Value(
            f"SIGNING_ALGORITHM_{sub.signing_algorithm.value}"
        ),
        public_key=sub.public_key,
    )


def _enum_name(name: str, prefix: str) -> str:
    return name[len(prefix) :]


def subscription_from_pb(msg: spb.Subscription) -> Subscription:
    """A draft subscription from a request; output-only fields are left at defaults."""
    payload = msg.payload_mode or spb.PAYLOAD_MODE_FULL
    algorithm = msg.signing_algorithm or spb.SIGNING_ALGORITHM_HMAC_SHA256
    verification = msg.verification or spb.VERIFICATION_MODE_ECHO_TOKEN
    return Subscription(
        id=msg.id,
        url=msg.url,
        event_types=list(msg.event_types),
        secret=msg.secret,
        headers=dict(msg.headers),
        properties=dict(msg.properties),
        client_state=msg.client_state,
        payload_mode=PayloadMode(_enum_name(spb.PayloadMode.Name(payload), "PAYLOAD_MODE_")),
        verification=VerificationMode(
            _enum_name(spb.VerificationMode.Name(verification), "VERIFICATION_MODE_")
        ),
        expire_time=seconds_of(msg.expire_time) if msg.HasField("expire_time") else 0.0,
        description=msg.description,
        retry_schedule=[duration_seconds(d) for d in msg.retry_schedule],
        rate_limit=msg.rate_limit,
        signing_algorithm=SigningAlgorithm(
            _enum_name(spb.SigningAlgorithm.Name(algorithm), "SIGNING_ALGORITHM_")
        ),
    )


def subscription_state(value: spb.SubscriptionState.ValueType) -> SubscriptionState | None:
    if not value:
        return None
    return SubscriptionState(_enum_name(spb.SubscriptionState.Name(value), "SUBSCRIPTION_STATE_"))


def delivery_state(value: dpb.DeliveryState.ValueType) -> DeliveryState | None:
    if not value:
        return None
    return DeliveryState(_enum_name(dpb.DeliveryState.Name(value), "DELIVERY_STATE_"))


def delivery_pb(d: Delivery) -> dpb.Delivery:
    return dpb.Delivery(
        id=d.id,
        event_id=d.event_id,
        subscription_id=d.subscription_id,
        state=dpb.DeliveryState.Value(f"DELIVERY_STATE_{d.state.value}"),
        attempt_count=d.attempt_count,
        next_attempt_time=timestamp(d.next_attempt_time),
        last_error=d.last_error,
        last_status_code=d.last_status_code,
        create_time=timestamp(d.create_time),
        update_time=timestamp(d.update_time),
        event_type=d.event_type,
    )


def attempt_pb(a: Attempt) -> dpb.DeliveryAttempt:
    return dpb.DeliveryAttempt(
        id=a.id,
        delivery_id=a.delivery_id,
        attempt_number=a.attempt_number,
        attempt_time=timestamp(a.attempt_time),
        status_code=a.status_code,
        latency=duration(a.latency),
        error=a.error,
        response_body=a.response_body,
        result=dpb.AttemptResult.Value(f"ATTEMPT_RESULT_{a.result.value}"),
    )


def leases_pb(leases: Sequence[Lease], timeout: float, now: float) -> dpb.LeaseDeliveriesResponse:
    """One lease batch, each event and target once."""
    response = dpb.LeaseDeliveriesResponse(timeout=duration(timeout))
    events: set[str] = set()
    targets: set[str] = set()
    for lease in leases:
        event, sub = lease.event, lease.subscription
        if event.id not in events:
            events.add(event.id)
            fill_event(response.events.add(), event)
        if sub.id not in targets:
            targets.add(sub.id)
            response.targets.append(target_pb(sub, now))
        response.deliveries.add(  # built in place: appending a message would copy it
            delivery_id=lease.delivery.id,
            event_id=event.id,
            subscription_id=sub.id,
            attempt_number=lease.delivery.attempt_count + 1,
            lease_id=lease.lease_id,
            fetch_token=fetch_tokens.issue(sub, event.id, now)
            if sub.payload_mode is PayloadMode.THIN
            else "",
        )
    if leases:
        response.lease_expire_time.CopyFrom(timestamp(leases[0].lease_expire_time))
    return response


def target_pb(sub: Subscription, now: float) -> dpb.DeliveryTarget:
    return dpb.DeliveryTarget(
        subscription_id=sub.id,
        url=sub.url,
        headers=sub.headers,
        properties=sub.properties,
        client_state=sub.client_state,
        payload_mode=spb.PayloadMode.Value(f"PAYLOAD_MODE_{sub.payload_mode.value}"),
        signing_secrets=sub.signing_secrets(now),
    )


# Every reported result by its wire value; one the broker does not know counts as FAILED.
_ATTEMPT_RESULTS = {
    value: AttemptResult(_enum_name(name, "ATTEMPT_RESULT_"))
    for name, value in dpb.AttemptResult.items()
    if value
}


def outcome_from_pb(msg: dpb.DeliveryOutcome) -> Outcome:
    return Outcome(
        delivery_id=msg.delivery_id,
        lease_id=msg.lease_id,
        result=_ATTEMPT_RESULTS.get(msg.result, AttemptResult.FAILED),
        status_code=msg.status_code,
        attempt_time=seconds_of(msg.attempt_time),
        latency=duration_seconds(msg.latency),
        error=msg.error[:1024],
        response_body=msg.response_body[:4096],
        retry_after=duration_seconds(msg.retry_after) if msg.HasField("retry_after") else None,
    )


def verification_task_pb(task: VerificationTask) -> dpb.VerificationTask:
    return dpb.VerificationTask(
        id=task.id,
        url=task.url,
        mode=spb.VerificationMode.Value(f"VERIFICATION_MODE_{task.mode.value}"),
        token=task.token,
        topic=task.topic,
        lease=duration(task.lease_seconds),
        timeout=duration(task.timeout),
        origin=task.origin,
    )


def verification_result_from_pb(msg: dpb.VerificationOutcome) -> VerificationResult:
    return VerificationResult(msg.verified, msg.detail[:512], msg.allowed_rate)
