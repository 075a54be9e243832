"""Delivery use cases for operators: list deliveries and their attempts, retry one,
replay a time range to a subscription. Leasing and outcomes are the dispatcher's."""

from __future__ import annotations

from collections.abc import Callable

from broker.clock import Clock
from broker.domain import Attempt, Delivery, DeliveryState
from broker.errors import InvalidArgument, NotFound
from broker.ids import IdFactory
from broker.pagination import cut_page, parse_page
from broker.storage.contract import Store


class DeliveryManager:
    def __init__(
        self, store: Store, clock: Clock, ids: IdFactory, work_may_be_due: Callable[[], None]
    ) -> None:
        self._store = store
        self._clock = clock
        self._ids = ids
        self._work_may_be_due = work_may_be_due

    async def list_page(
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
        self._work_may_be_due()
        return queued

    async def retry(self, delivery_id: str) -> Delivery:
        delivery = (
            await self._store.retry_delivery(delivery_id, self._clock.now())
            if delivery_id
            else None
        )
        if delivery is None:
            raise NotFound("delivery", delivery_id)
        self._work_may_be_due()
        return delivery
