"""Domain records: plain data, no I/O. Times are epoch seconds (float).

The words of delivery, in the order they happen: a gateway makes an *attempt* and reports
its `AttemptResult` (with status, latency, error) as an `Outcome`; the retry policy turns
the outcome into a `Decision` whose `Verdict` is DELIVERED, RETRY, EXHAUSTED or GONE; the
verdict sets the delivery's `DeliveryState` (`DELIVERY_STATE_FOR`). Storage depends on
this module only, so every record it reads or writes is here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class SubscriptionState(StrEnum):
    PENDING_VERIFICATION = "PENDING_VERIFICATION"
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    DISABLED = "DISABLED"
    EXPIRED = "EXPIRED"


class PayloadMode(StrEnum):
    FULL = "FULL"
    THIN = "THIN"


class VerificationMode(StrEnum):
    ECHO_TOKEN = "ECHO_TOKEN"
    WEBSUB_CHALLENGE = "WEBSUB_CHALLENGE"
    CLOUDEVENTS_OPTIONS = "CLOUDEVENTS_OPTIONS"
    NONE = "NONE"


class SigningAlgorithm(StrEnum):
    HMAC_SHA256 = "HMAC_SHA256"
    ED25519 = "ED25519"


class DeliveryState(StrEnum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    EXHAUSTED = "EXHAUSTED"
    FAILED = "FAILED"


class AttemptResult(StrEnum):
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    GONE = "GONE"
    THROTTLED = "THROTTLED"
    TIMED_OUT = "TIMED_OUT"
    CONNECTION_ERROR = "CONNECTION_ERROR"
    BLOCKED = "BLOCKED"


class Verdict(StrEnum):
    """What the retry policy decided after an attempt."""

    DELIVERED = "DELIVERED"
    RETRY = "RETRY"
    EXHAUSTED = "EXHAUSTED"
    GONE = "GONE"


# The state a delivery is left in by each verdict.
DELIVERY_STATE_FOR = {
    Verdict.DELIVERED: DeliveryState.DELIVERED,
    Verdict.RETRY: DeliveryState.PENDING,
    Verdict.EXHAUSTED: DeliveryState.EXHAUSTED,
    Verdict.GONE: DeliveryState.FAILED,
}


@dataclass(frozen=True, slots=True)
class Decision:
    verdict: Verdict
    next_attempt_time: float = 0.0
    disable_reason: str = ""


def secrets_valid_now(
    current: str, previous: str, previous_expire_time: float, now: float
) -> list[str]:
    """The secrets in force now, newest first: after a rotation the previous one stays
    valid until its overlap ends. The one rule for subscriptions, sources and the fetch
    tokens derived from a subscription's secret."""
    if previous and previous_expire_time > now:
        return [current, previous]
    return [current]


JSON = "application/json"


def is_json(content_type: str) -> bool:
    """Whether a content type is JSON: its media type, before any parameters, is
    `application/json` (case-insensitive), or names none (JSON is the default). The
    gateway splices such data into the envelope as JSON, so the broker validates it as
    JSON; `gateway.envelope.is_json` is held to this by a test."""
    return content_type.partition(";")[0].strip().lower() in ("", JSON)


# Subscription states whose matching events are queued (PAUSED ones are held, not dropped).
QUEUEING_STATES = (SubscriptionState.ACTIVE, SubscriptionState.PAUSED)


# NewEvent, Event and PublishResult are made once per published event: they are not frozen
# because a frozen dataclass costs three times as much to construct. Treat them as values.
@dataclass(slots=True)
class NewEvent:
    """A validated publish request, before it has an id."""

    type: str
    data: bytes
    content_type: str
    attributes: dict[str, str]
    idempotency_key: str


@dataclass(slots=True)
class Event:
    id: str
    type: str
    data: bytes
    content_type: str
    attributes: dict[str, str]
    idempotency_key: str
    create_time: float


@dataclass(slots=True)
class PublishResult:
    event: Event
    duplicate: bool
    queued: int = 0  # deliveries this publish queued


@dataclass(slots=True)
class Subscription:
    id: str
    url: str
    event_types: list[str]
    secret: str
    headers: dict[str, str] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    client_state: str = ""
    payload_mode: PayloadMode = PayloadMode.FULL
    verification: VerificationMode = VerificationMode.ECHO_TOKEN
    expire_time: float = 0.0
    state: SubscriptionState = SubscriptionState.ACTIVE
    description: str = ""
    create_time: float = 0.0
    update_time: float = 0.0
    retry_schedule: list[float] = field(default_factory=list)
    disabled_reason: str = ""
    failing_since: float | None = None
    rate_limit: int = 0
    signing_algorithm: SigningAlgorithm = SigningAlgorithm.HMAC_SHA256
    public_key: str = ""
    previous_secret: str = ""
    previous_secret_expire_time: float = 0.0
    expiring_notified: bool = False

    def observe_expiry(self, now: float) -> Subscription:
        """Show a lapsed subscription as EXPIRED even before the sweeper has marked it."""
        if self.state in QUEUEING_STATES and self.expire_time <= now:
            self.state = SubscriptionState.EXPIRED
        return self

    def signing_secrets(self, now: float) -> list[str]:
        """The secrets every webhook is signed with now (two during a rotation overlap)."""
        return secrets_valid_now(
            self.secret, self.previous_secret, self.previous_secret_expire_time, now
        )


@dataclass(slots=True)
class Delivery:
    id: str
    event_id: str
    subscription_id: str
    event_type: str
    state: DeliveryState
    attempt_count: int
    next_attempt_time: float
    last_error: str
    last_status_code: int
    create_time: float
    update_time: float
    lease_id: str = ""


@dataclass(frozen=True, slots=True)
class Attempt:
    id: str
    delivery_id: str
    attempt_number: int
    attempt_time: float
    status_code: int
    latency: float
    error: str
    response_body: str
    result: AttemptResult


@dataclass(slots=True)
class Lease:
    """A delivery handed to a gateway, with everything needed to attempt it; a THIN
    subscription's lease also carries the token that lets its subscriber fetch the data."""

    delivery: Delivery
    event: Event
    subscription: Subscription
    lease_id: str
    lease_expire_time: float
    fetch_token: str = ""


@dataclass(frozen=True, slots=True)
class Outcome:
    """A gateway's report of one attempt."""

    delivery_id: str
    lease_id: str
    result: AttemptResult
    status_code: int
    attempt_time: float
    latency: float
    error: str
    response_body: str
    retry_after: float | None

    @property
    def error_text(self) -> str:
        """The error recorded for the attempt: the gateway's, else the HTTP status."""
        if self.error or self.result is AttemptResult.SUCCEEDED:
            return self.error
        return f"HTTP {self.status_code}"


@dataclass(frozen=True, slots=True)
class VerificationTask:
    """An endpoint-ownership handshake the broker asks a gateway to perform."""

    id: str
    url: str
    mode: VerificationMode
    token: str
    topic: str
    lease_seconds: float
    timeout: float
    origin: str


@dataclass(frozen=True, slots=True)
class VerificationResult:
    verified: bool
    detail: str
    allowed_rate: int = 0


@dataclass(slots=True)
class Source:
    """Where one provider's inbound webhooks arrive; a deleted source is kept as a
    tombstone (secrets wiped) so its URL can answer 410 Gone."""

    id: str
    provider: str
    secret: str
    event_type_prefix: str
    options: dict[str, str] = field(default_factory=dict)
    description: str = ""
    create_time: float = 0.0
    previous_secret: str = ""
    previous_secret_expire_time: float = 0.0
    delete_time: float = 0.0

    def valid_secrets(self, now: float) -> list[str]:
        """Every secret a request may be signed with now, newest first."""
        return secrets_valid_now(
            self.secret, self.previous_secret, self.previous_secret_expire_time, now
        )


class Role(StrEnum):
    """What an API token may do (see `broker.grpc.access` for the RPCs of each)."""

    ADMIN = "ADMIN"
    MANAGER = "MANAGER"
    PUBLISHER = "PUBLISHER"
    READER = "READER"
    GATEWAY = "GATEWAY"


@dataclass(slots=True)
class ApiToken:
    """A bearer credential. Only a hash of its secret is kept; `event_types`, when set,
    limits a publisher to the types those patterns match."""

    id: str
    role: Role
    event_types: list[str]
    description: str
    secret_hash: str
    create_time: float
    expire_time: float = 0.0  # 0: never
    revoke_time: float = 0.0  # 0: live

    def live(self, now: float) -> bool:
        return not self.revoke_time and (not self.expire_time or self.expire_time > now)
