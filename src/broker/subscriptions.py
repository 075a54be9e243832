"""Subscription use cases: create (after the endpoint proves it wants the events), read,
update with a field mask, delete."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass, replace

from broker import subscription_rules as rules
from broker.clock import Clock, RandomSource
from broker.domain import Subscription, SubscriptionState, VerificationMode
from broker.errors import FailedPrecondition, InvalidArgument, NotFound
from broker.ids import IdFactory
from broker.pagination import cut_page, parse_page
from broker.storage.contract import Store
from broker.verification import VerificationTask, Verifier

UPDATABLE = (
    "url", "event_types", "headers", "properties", "client_state", "payload_mode",
    "verification", "expire_time", "description", "retry_schedule",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SubscriptionSettings:
    max_lifetime: float = 180 * 86400.0
    verification_timeout: float = 5.0
    origin: str = "hookwire"


class SubscriptionManager:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        rng: RandomSource,
        ids: IdFactory,
        verifier: Verifier,
        settings: SubscriptionSettings | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._rng = rng
        self._ids = ids
        self._verifier = verifier
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
            elif name == "expire_time":
                sub.expire_time = self._lifetime(sub.expire_time, now)

    def _lifetime(self, expire_time: float, now: float) -> float:
        latest = now + self.settings.max_lifetime
        if not expire_time:
            return latest
        if expire_time <= now:
            raise InvalidArgument("subscription.expire_time", "must be in the future")
        if expire_time > latest + 1:
            days = self.settings.max_lifetime / 86400
            raise InvalidArgument(
                "subscription.expire_time", f"must be at most {days:g} days ahead"
            )
        return expire_time

    async def _verify(self, sub: Subscription) -> None:
        if sub.verification is VerificationMode.NONE:
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

    async def create(self, draft: Subscription) -> Subscription:
        now = self._clock.now()
        sub = replace(draft, id=self._ids.new("sub"), state=SubscriptionState.ACTIVE)
        sub.create_time = sub.update_time = now
        sub.disabled_reason, sub.failing_since = "", None
        self._normalize(sub, now, UPDATABLE)
        if sub.secret:
            rules.check_secret("subscription.secret", sub.secret)
        else:
            sub.secret = rules.new_secret(self._rng.token_bytes(32))
        await self._verify(sub)
        await self._store.create_subscription(sub)
        return sub

    async def get(self, subscription_id: str) -> Subscription:
        sub = await self._store.get_subscription(subscription_id) if subscription_id else None
        if sub is None:
            raise NotFound("subscription", subscription_id)
        return sub

    async def list_page(
        self, page_size: int, page_token: str, state: SubscriptionState | None
    ) -> tuple[list[Subscription], str]:
        page = parse_page(page_size, page_token, "subscriptions", state)
        rows = await self._store.list_subscriptions(page.after, page.size + 1, state)
        return cut_page(page, rows, lambda s: s.id)

    async def update(self, change: Subscription, mask: list[str]) -> Subscription:
        paths = mask or list(UPDATABLE)
        for path in paths:
            if path not in UPDATABLE:
                raise InvalidArgument("update_mask", f"{path!r} cannot be updated")
        current = await self.get(change.id)
        now = self._clock.now()
        updated = replace(current, update_time=now)
        for path in paths:
            setattr(updated, path, getattr(change, path))
        self._normalize(updated, now, paths)
        url_changed = updated.url != current.url
        mode_changed = updated.verification != current.verification
        if url_changed or mode_changed:
            await self._verify(updated)
        if not await self._store.update_subscription(updated):
            raise NotFound("subscription", change.id)
        return updated

    async def delete(self, subscription_id: str) -> None:
        if not await self._store.delete_subscription(subscription_id, self._clock.now()):
            raise NotFound("subscription", subscription_id)
