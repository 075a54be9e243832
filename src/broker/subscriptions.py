"""Subscription use cases: create (after the endpoint proves it wants the events), read,
update with a field mask, delete."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import Protocol

from broker import subscription_rules as rules
from broker.blocked_addresses import IPNetwork
from broker.clock import Clock, RandomSource
from broker.credentials import new_ed25519_pair, new_hmac_secret
from broker.domain import (
    SigningAlgorithm,
    Subscription,
    SubscriptionState,
    VerificationMode,
    VerificationResult,
    VerificationTask,
)
from broker.errors import FailedPrecondition, InvalidArgument, NotFound
from broker.ids import IdFactory
from broker.pagination import cut_page, parse_page
from broker.storage.contract import Store

UPDATABLE = (
    "url", "event_types", "headers", "properties", "client_state", "payload_mode",
    "verification", "expire_time", "description", "retry_schedule", "rate_limit",
)  # fmt: skip
MAX_UPDATE_TRIES = 3


def kept_header_values(given: dict[str, str], current: dict[str, str]) -> dict[str, str]:
    """Header values are write-only (responses show names only), so a client that sends
    back what it read sends empty values: an empty value for a header the subscription
    already has keeps that header's value; a header left out is removed."""
    return {
        name: value if value or name not in current else current[name]
        for name, value in given.items()
    }


class Verifier(Protocol):
    """Performs an endpoint's ownership handshake somewhere that may make HTTP calls (a
    gateway: the broker never does)."""

    async def verify(self, task: VerificationTask) -> VerificationResult: ...


@dataclass(frozen=True, slots=True)
class SubscriptionSettings:
    max_lifetime: float = 180 * 86400.0
    verification_timeout: float = 5.0
    origin: str = "hookwire"
    rotation_overlap: float = 86400.0
    # Literal-address hosts allowed despite being loopback, private, etc.
    # (HOOKWIRE_ALLOWED_CIDRS, which the gateways' guard uses too).
    allowed_cidrs: tuple[IPNetwork, ...] = ()


class SubscriptionManager:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        rng: RandomSource,
        ids: IdFactory,
        verifier: Verifier,
        work_may_be_due: Callable[[], None],
        settings: SubscriptionSettings | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._rng = rng
        self._ids = ids
        self._verifier = verifier
        self._work_may_be_due = work_may_be_due
        self.settings = settings or SubscriptionSettings()

    def _normalize(self, sub: Subscription, now: float, fields: Iterable[str]) -> None:
        """Validate the named fields of `sub` in place; errors name `subscription.<field>`."""
        f = "subscription."
        for name in fields:
            if name == "url":
                sub.url = rules.check_url(f + "url", sub.url)
            elif name == "event_types":
                sub.event_types = rules.check_patterns(f + "event_types", sub.event_types)
            elif name == "headers":
                sub.headers = rules.check_headers(f + "headers", sub.headers)
            elif name == "properties":
                sub.properties = rules.check_properties(f + "properties", sub.properties)
            elif name == "client_state":
                rules.check_text(f + "client_state", sub.client_state, 255)
            elif name == "description":
                rules.check_text(f + "description", sub.description, 1024)
            elif name == "retry_schedule":
                sub.retry_schedule = rules.check_schedule(f + "retry_schedule", sub.retry_schedule)
            elif name == "rate_limit":
                if sub.rate_limit < 0:
                    raise InvalidArgument(f + "rate_limit", "must not be negative")
            elif name == "expire_time":
                sub.expire_time = self._lifetime(sub.expire_time, now, f + "expire_time")

    def _lifetime(self, expire_time: float, now: float, field: str) -> float:
        latest = now + self.settings.max_lifetime
        if not expire_time:
            return latest
        if expire_time <= now:
            raise InvalidArgument(field, "must be in the future")
        if expire_time > latest + 1:
            days = self.settings.max_lifetime / 86400
            raise InvalidArgument(field, f"must be at most {days:g} days ahead")
        return expire_time

    async def _verify(self, sub: Subscription) -> None:
        """Have the endpoint prove it wants the events; without a handshake, at least refuse
        an address no gateway would deliver to, so the mistake shows at once."""
        if sub.verification is VerificationMode.NONE:
            rules.check_destination("subscription.url", sub.url, self.settings.allowed_cidrs)
            return
        task = VerificationTask(
            id=self._ids.new("vrf"),
            url=sub.url,
            mode=sub.verification,
            token=base64.urlsafe_b64encode(self._rng.token_bytes(24)).decode().rstrip("="),
            topic=",".join(sub.event_types),
            lease_seconds=max(sub.expire_time - self._clock.now(), 0),
            timeout=self.settings.verification_timeout,
            origin=self.settings.origin,
        )
        result = await self._verifier.verify(task)
        if not result.verified:
            raise FailedPrecondition(
                f"endpoint verification ({sub.verification.value}) failed: {result.detail}"
            )
        if result.allowed_rate:
            sub.rate_limit = result.allowed_rate

    def _install_keys(self, sub: Subscription, field: str) -> None:
        """Give `sub` fresh signing material (or check the HMAC secret it brought)."""
        if sub.signing_algorithm is SigningAlgorithm.ED25519:
            if sub.secret:
                raise InvalidArgument(field, "must be empty for ED25519: the broker makes the key")
            sub.secret, sub.public_key = new_ed25519_pair(self._rng)
        elif sub.secret:
            rules.check_secret(field, sub.secret)
        else:
            sub.secret = new_hmac_secret(self._rng)

    async def create(self, draft: Subscription) -> Subscription:
        now = self._clock.now()
        sub = replace(draft, id=self._ids.new("sub"), state=SubscriptionState.ACTIVE)
        sub.create_time = sub.update_time = now
        sub.disabled_reason, sub.failing_since, sub.public_key = "", None, ""
        sub.previous_secret, sub.previous_secret_expire_time = "", 0.0
        self._normalize(sub, now, UPDATABLE)
        self._install_keys(sub, "subscription.secret")
        await self._verify(sub)
        await self._store.create_subscription(sub)
        return sub

    async def get(self, subscription_id: str) -> Subscription:
        sub = await self._store.get_subscription(subscription_id) if subscription_id else None
        if sub is None:
            raise NotFound("subscription", subscription_id)
        return sub.observe_expiry(self._clock.now())

    async def list_page(
        self, page_size: int, page_token: str, state: SubscriptionState | None
    ) -> tuple[list[Subscription], str]:
        page = parse_page(page_size, page_token, "subscriptions", state)
        rows = await self._store.list_subscriptions(page.after, page.size + 1, state)
        now = self._clock.now()
        return cut_page(page, [s.observe_expiry(now) for s in rows], lambda s: s.id)

    async def _change(
        self, subscription_id: str, change: Callable[[Subscription, Subscription, float], None]
    ) -> Subscription:
        """Read, apply `change(current, updated, now)`, write if nobody wrote meanwhile."""
        for _ in range(MAX_UPDATE_TRIES):
            current = await self.get(subscription_id)
            now = self._clock.now()
            updated = replace(
                current,
                event_types=list(current.event_types),
                update_time=max(now, current.update_time + 1e-6),
            )
            change(current, updated, now)
            if updated.url != current.url or updated.verification != current.verification:
                await self._verify(updated)
            if await self._store.update_subscription(updated, current.update_time):
                return updated
        raise FailedPrecondition("the subscription kept changing concurrently; retry")

    async def update(self, change: Subscription, mask: list[str]) -> Subscription:
        paths = mask or list(UPDATABLE)
        for path in paths:
            if path not in UPDATABLE:
                raise InvalidArgument("update_mask", f"{path!r} cannot be updated")

        def apply(current: Subscription, updated: Subscription, now: float) -> None:
            for path in paths:
                setattr(updated, path, getattr(change, path))
            if "headers" in paths:
                updated.headers = kept_header_values(change.headers, current.headers)
            self._normalize(updated, now, paths)
            if "expire_time" in paths and updated.expire_time != current.expire_time:
                updated.expiring_notified = False

        return await self._change(change.id, apply)

    async def delete(self, subscription_id: str) -> None:
        if not await self._store.delete_subscription(subscription_id, self._clock.now()):
            raise NotFound("subscription", subscription_id)

    async def renew(self, subscription_id: str, expire_time: float) -> Subscription:
        def apply(current: Subscription, updated: Subscription, now: float) -> None:
            updated.expire_time = self._lifetime(expire_time, now, "expire_time")
            updated.expiring_notified = False
            if current.state is SubscriptionState.EXPIRED:
                updated.state = SubscriptionState.ACTIVE

        renewed = await self._change(subscription_id, apply)
        self._work_may_be_due()
        return renewed

    async def pause(self, subscription_id: str) -> Subscription:
        def apply(current: Subscription, updated: Subscription, now: float) -> None:
            if current.state not in (SubscriptionState.ACTIVE, SubscriptionState.PAUSED):
                raise FailedPrecondition(f"cannot pause a {current.state.value} subscription")
            updated.state = SubscriptionState.PAUSED

        return await self._change(subscription_id, apply)

    async def resume(self, subscription_id: str) -> Subscription:
        def apply(current: Subscription, updated: Subscription, now: float) -> None:
            if current.state is SubscriptionState.EXPIRED:
                raise FailedPrecondition("the subscription has expired; renew it instead")
            if current.expire_time <= now:
                raise FailedPrecondition("the subscription's lifetime is over; renew it")
            updated.state = SubscriptionState.ACTIVE
            updated.disabled_reason, updated.failing_since = "", None

        resumed = await self._change(subscription_id, apply)
        self._work_may_be_due()
        return resumed

    async def rotate_secret(
        self, subscription_id: str, secret: str, overlap: float | None
    ) -> Subscription:
        keep = self.settings.rotation_overlap if overlap is None else overlap
        if keep < 0:
            raise InvalidArgument("overlap", "must not be negative")

        def apply(current: Subscription, updated: Subscription, now: float) -> None:
            updated.secret = secret
            self._install_keys(updated, "secret")
            updated.previous_secret = current.secret if keep > 0 else ""
            updated.previous_secret_expire_time = now + keep if keep > 0 else 0.0

        return await self._change(subscription_id, apply)
