"""Event use cases besides publishing (`publishing.py`): read one, list them."""

from __future__ import annotations

from broker import credentials
from broker.clock import Clock
from broker.domain import Event
from broker.errors import InvalidArgument, NotFound, Unauthenticated
from broker.pagination import cut_page, parse_page
from broker.patterns import pattern_problem
from broker.storage.contract import Store


class EventManager:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def get(self, event_id: str, fetch_token: str = "") -> Event:
        """The event; with a THIN fetch token, only if the token was issued for it."""
        if fetch_token:
            sub_id = credentials.fetch_token_subscription(fetch_token)
            sub = await self._store.get_subscription(sub_id) if sub_id else None
            if sub is None or not credentials.check_fetch_token(
                fetch_token, sub, event_id, self._clock.now()
            ):
                raise Unauthenticated("the access token does not grant this event")
        event = await self._store.get_event(event_id) if event_id else None
        if event is None:
            raise NotFound("event", event_id)
        return event

    async def list_page(
        self, page_size: int, page_token: str, type_pattern: str
    ) -> tuple[list[Event], str]:
        if type_pattern and (problem := pattern_problem(type_pattern)):
            raise InvalidArgument("type", problem)
        page = parse_page(page_size, page_token, "events", type_pattern)
        rows = await self._store.list_events(page.after, page.size + 1, type_pattern)
        return cut_page(page, rows, lambda e: e.id)
