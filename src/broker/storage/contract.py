"""The store contract every database implements; one contract test runs against each.

Every method is one transaction. Ids come from the caller's `make_id` so that the
store never decides anything but how to keep data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from broker.domain import (
    ApiToken,
    Attempt,
    Decision,
    Delivery,
    DeliveryState,
    Event,
    Lease,
    NewEvent,
    Outcome,
    PublishResult,
    Source,
    Subscription,
    SubscriptionState,
)

MakeId = Callable[[str], str]
Decide = Callable[[Outcome, Delivery, Subscription], Decision]


@dataclass(frozen=True, slots=True)
class OutcomesApplied:
    """What recording a batch of outcomes changed."""

    applied: list[tuple[Outcome, Delivery, Decision]]
    disabled: list[tuple[Subscription, str]]


NoticesFor = Callable[[OutcomesApplied], Sequence[NewEvent]]
Notice = Callable[[Subscription], NewEvent]


class StoreError(Exception):
    """The database failed; the message names the operation, never the data."""


class StoreRefused(StoreError):
    """The database works but refused what this transaction wrote (a constraint, a value
    it cannot hold): the same data fails again, and other transactions may succeed."""


class Store(Protocol):
    async def close(self) -> None: ...

    async def publish(
        self, events: Sequence[NewEvent], now: float, make_id: MakeId
    ) -> list[PublishResult]:
        """Store the events and a PENDING delivery per matching subscription, atomically.

        An event whose idempotency key is already stored (or repeated earlier in the
        batch) is not stored again: its result is the original with duplicate=True.
        """

    async def get_event(self, event_id: str) -> Event | None: ...

    async def list_events(self, after: str, limit: int, type_pattern: str) -> list[Event]: ...

    async def create_subscription(self, subscription: Subscription) -> None: ...

    async def get_subscription(self, subscription_id: str) -> Subscription | None: ...

    async def list_subscriptions(
        self, after: str, limit: int, state: SubscriptionState | None
    ) -> list[Subscription]: ...

    async def update_subscription(
        self, subscription: Subscription, expected_update_time: float
    ) -> bool:
        """Replace the stored subscription's fields if its update_time is still
        `expected_update_time`; False when it does not exist or changed meanwhile."""

    async def delete_subscription(self, subscription_id: str, now: float) -> bool:
        """Delete it and fail its pending deliveries; False when it does not exist."""

    async def get_delivery(self, delivery_id: str) -> Delivery | None: ...

    async def list_deliveries(
        self,
        after: str,
        limit: int,
        subscription_id: str,
        event_id: str,
        state: DeliveryState | None,
    ) -> list[Delivery]: ...

    async def list_attempts(self, delivery_id: str, after: str, limit: int) -> list[Attempt]: ...

    async def retry_delivery(self, delivery_id: str, now: float) -> Delivery | None:
        """Make the delivery PENDING and due now; None when it does not exist."""

    async def lease(
        self,
        now: float,
        limit: int,
        lease_expire_time: float,
        lease_id: str,
        blocked: Sequence[str] = (),
        room: Callable[[str], int] | None = None,
    ) -> list[Lease]:
        """Lease up to `limit` due deliveries of ACTIVE subscriptions until `lease_expire_time`,
        oldest due first, none of the `blocked` subscriptions and at most `room(id)` of each.

        A lease that is never reported simply falls due again when it expires.
        """

    async def next_due_time(self, now: float, blocked: Sequence[str] = ()) -> float | None:
        """When the earliest pending delivery of an ACTIVE, unlapsed, unblocked subscription
        falls due (the same subscriptions `lease` takes from, or the dispatcher would spin)."""

    async def record_outcomes(
        self,
        outcomes: Sequence[Outcome],
        decide: Decide,
        now: float,
        make_id: MakeId,
        notices: NoticesFor | None = None,
    ) -> OutcomesApplied:
        """Record each attempt and apply `decide`'s verdict, atomically, publishing the
        events `notices` derives from what changed in the same transaction.

        Outcomes whose lease is no longer current are ignored.
        """

    async def warn_expiring(
        self, before: float, limit: int, now: float, make_id: MakeId, notice: Notice
    ) -> list[Subscription]:
        """For ACTIVE/PAUSED subscriptions lapsing by `before` and not yet warned: publish
        `notice(sub)` (delivered to that subscription too) and mark it warned, atomically."""

    async def expire_subscriptions(
        self, now: float, limit: int, make_id: MakeId, notice: Notice
    ) -> list[Subscription]:
        """Mark lapsed ACTIVE/PAUSED subscriptions EXPIRED and publish `notice(sub)` for
        each, atomically; returns them."""

    async def replay(
        self, subscription: Subscription, start: float, end: float, now: float, make_id: MakeId
    ) -> int:
        """Queue a delivery to `subscription` for each stored event in [start, end) that
        matches its patterns; returns how many."""

    async def purge_events(self, before: float, limit: int) -> int:
        """Delete up to `limit` events created before `before`, with their deliveries
        and attempts; returns how many events."""

    # -- inbound sources -------------------------------------------------------------

    async def create_source(self, source: Source) -> None: ...

    async def get_source(self, source_id: str) -> Source | None:
        """The source, deleted ones included (as tombstones with `delete_time` set)."""

    async def list_sources(self, after: str, limit: int, provider: str) -> list[Source]:
        """Sources that are not deleted, oldest first."""

    async def delete_source(self, source_id: str, now: float) -> bool:
        """Tombstone it and wipe its secrets; False when it does not exist or is deleted."""

    async def rotate_source_secret(
        self, source_id: str, secret: str, previous_expire_time: float
    ) -> bool:
        """Make `secret` current, keeping the old one valid until `previous_expire_time`;
        False when the source does not exist or is deleted."""

    # -- API tokens ------------------------------------------------------------------

    async def create_api_token(self, token: ApiToken) -> None: ...

    async def get_api_token(self, token_id: str) -> ApiToken | None:
        """The token, revoked and expired ones included."""

    async def list_api_tokens(self, after: str, limit: int) -> list[ApiToken]:
        """Every token, oldest first."""

    async def revoke_api_token(self, token_id: str, now: float) -> bool:
        """Mark it revoked; False when it does not exist or was already revoked."""

    async def count_api_tokens(self) -> int: ...
