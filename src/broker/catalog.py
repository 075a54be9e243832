"""Read side of events and deliveries, and the operator's RetryDelivery."""

from __future__ import annotations

from collections.abc import Callable

from broker import fetch_tokens
from broker.clock import Clock
from broker.domain import Attempt, Delivery, DeliveryState, Event
from broker.errors import InvalidArgument, NotFound, Unauthenticated
from broker.ids import IdFactory
from broker.pagination import cut_page, parse_page
from broker.patterns import pattern_problem
from broker.storage.contract import Store


class Catalog:
    def __init__(
        self, store: Store, clock: Clock, ids: IdFactory, on_requeued: Callable[[], None]
    ) -> None:
        self._ids = ids
        self._store = store
        self._clock = clock
        self._on_requeued = on_requeued

    async def get_event(self, event_id: str, access_token: str = "") -> Event:
        """The event; with a THIN fetch token, only if the token was issued for it."""
        if access_token:
            sub_id = fetch_tokens.subscription_of(access_token)
            sub = await self._store.get_subscription(sub_id) if sub_id else None
            if sub is None or not fetch_tokens.check(
                access_token, sub, event_id, self._clock.now()
            ):
                raise Unauthenticated("the access token does not grant this event")
        event = await self._store.get_event(event_id) if event_id else None
        if event is None:
            raise NotFound("event", event_id)
        return event

    async def list_events(
        self, page_size: int, page_token: str, type_pattern: str
    ) -> tuple[list[Event], str]:
        if type_pattern and (problem := pattern_problem(type_pattern)):
            raise InvalidArgument("type", problem)
        page = parse_page(page_size, page_token, "events", type_pattern)
        rows = await self._store.list_events(page.after, page.size + 1, type_pattern)
        return cut_page(page, rows, lambda e: e.id)

    async def list_deliveries(
        self,
        page_size: int,
        page_token: str,
        subscription_id: str,
        event_id: str,
        state: DeliveryState | None,
    ) -> tuple[list[Delivery], str]:
        page = parse_page(page_size, page_token, "deliveries", subscription_id, event_id, state)
        rows = await self._store.list_deliveries(
            page.after, page.size + 1, subscription_id, event_id, state
        )
        return cut_page(page, rows, lambda d: d.id)

    async def list_attempts(
        self, delivery_id: str, page_size: int, page_token: str
    ) -> tuple[list[Attempt], str]:
        page = parse_page(page_size, page_token, "attempts", delivery_id)
        if not delivery_id:
            raise InvalidArgument("delivery_id", "must not be empty")
        if await self._store.get_delivery(delivery_id) is None:
            raise NotFound("delivery", delivery_id)
        rows = await self._store.list_attempts(delivery_id, page.after, page.size + 1)
        return cut_page(page, rows, lambda a: a.id)

    async def replay(self, subscription_id: str, start: float, end: float | None) -> int:
        """Queue the retained events of [start, end) that match the subscription."""
        subscription = (
            await self._store.get_subscription(subscription_id) if subscription_id else None
        )
        if subscription is None:
            raise NotFound("subscription", subscription_id)
        now = self._clock.now()
        until = now if end is None else end
        if until <= start:
            raise InvalidArgument("end_time", "must be after start_time")
        queued = await self._store.replay(subscription, start, until, now, self._ids.new)
        self._on_requeued()
        return queued

    async def retry_delivery(self, delivery_id: str) -> Delivery:
        delivery = (
            await self._store.retry_delivery(delivery_id, self._clock.now())
            if delivery_id
            else None
        )
        if delivery is None:
            raise NotFound("delivery", delivery_id)
        self._on_requeued()
        return delivery
