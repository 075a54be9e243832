"""Publishing: validate events, then store them with group commit.

Concurrent publishes wait while a transaction is in flight and share the next one, so a
burst costs one fsync instead of one per event. A publish answers only after its
transaction committed: an acknowledged event is durable.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import orjson

from broker.clock import Clock
from broker.domain import JSON, NewEvent, PublishResult, is_json
from broker.errors import EVENT_TOO_LARGE, InvalidArgument, ResourceExhausted, Unavailable
from broker.ids import IdFactory
from broker.patterns import type_problem
from broker.storage.contract import Store, StoreError, StoreRefused


@dataclass(frozen=True, slots=True)
class PublishLimits:
    max_data_bytes: int = 256 * 1024
    max_attributes: int = 64
    max_attribute_bytes: int = 4096
    max_idempotency_key: int = 255
    max_content_type: int = 255
    max_batch: int = 1000
    commit_linger: float = 0.003  # seconds; 0 turns lingering off (see Publisher._drain)
    # The data bytes of publishes received but not yet answered; beyond it a publish waits
    # up to `in_flight_wait` seconds for room, then is refused (RESOURCE_EXHAUSTED).
    max_in_flight_bytes: int = 64 * 1024 * 1024
    in_flight_wait: float = 1.0

    def max_request_bytes(self) -> int:
        """The largest request worth receiving: a full batch of the largest events, but no
        more than may be in flight at once, plus room for the protobuf framing."""
        largest_event = (
            self.max_data_bytes
            + self.max_attribute_bytes
            + 4 * (self.max_idempotency_key + self.max_content_type)  # UTF-8: 4 bytes a char
            + EVENT_ENVELOPE
        )
        return min(self.max_batch * largest_event, self.max_in_flight_bytes) + REQUEST_HEADROOM


EVENT_ENVELOPE = 1024  # an event's type, tags and lengths, generously
REQUEST_HEADROOM = 1024 * 1024
CROWD = 2  # publishes in one commit: callers are publishing concurrently
# A commit of this many events already spreads its fixed cost thin: no lingering.
LINGER_BELOW_EVENTS = 32


def validate_event(
    event_type: str,
    data: bytes,
    content_type: str,
    attributes: dict[str, str],
    idempotency_key: str,
    limits: PublishLimits,
) -> NewEvent:
    """A NewEvent, or InvalidArgument naming the first bad field of a PublishEventRequest.
    The event keeps `attributes` itself: pass a dict of your own."""
    problem = type_problem(event_type)
    if problem:
        raise InvalidArgument("type", problem)
    if len(data) > limits.max_data_bytes:
        raise InvalidArgument(
            "data",
            f"is {len(data)} bytes; the limit is {limits.max_data_bytes}",
            reason=EVENT_TOO_LARGE,
        )
    if len(content_type) > limits.max_content_type or _has_control(content_type):
        raise InvalidArgument(
            "content_type",
            f"at most {limits.max_content_type} characters and no control characters",
        )
    content_type = content_type.strip() or JSON
    if data and (content_type == JSON or is_json(content_type)):  # the common case first
        try:
            orjson.loads(data)  # strict RFC 8259 (UTF-8, no NaN), and 4-6x faster than json
        except orjson.JSONDecodeError:
            raise InvalidArgument(
                "data", "is not valid JSON but content_type is application/json"
            ) from None
    if attributes:
        _check_attributes(attributes, limits)
    if idempotency_key and (
        len(idempotency_key) > limits.max_idempotency_key or _has_control(idempotency_key)
    ):
        raise InvalidArgument(
            "idempotency_key",
            f"at most {limits.max_idempotency_key} characters and no control characters",
        )
    return NewEvent(event_type, data, content_type, attributes, idempotency_key)


def _check_attributes(attributes: dict[str, str], limits: PublishLimits) -> None:
    if len(attributes) > limits.max_attributes:
        raise InvalidArgument("attributes", f"at most {limits.max_attributes} entries")
    size = sum(len(k) + len(v) for k, v in attributes.items())
    if size > limits.max_attribute_bytes or any(not k for k in attributes):
        raise InvalidArgument(
            "attributes",
            f"keys must be non-empty and all entries at most {limits.max_attribute_bytes} bytes",
        )
    if any("\x00" in k or "\x00" in v for k, v in attributes.items()):
        raise InvalidArgument("attributes", "keys and values must not contain NUL characters")


def _has_control(text: str) -> bool:
    """Whether `text` holds a C0 control character or DEL: none belongs in a key or a
    media type, and NUL is where C string handling (SQLite's JSON functions) cuts text."""
    return not text.isprintable() and any(c < " " or c == "\x7f" for c in text)


@dataclass(slots=True)
class _Pending:
    events: Sequence[NewEvent]
    done: asyncio.Future[list[PublishResult]]


class Publisher:
    """Stores validated events through one group-committing writer task."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        ids: IdFactory,
        work_may_be_due: Callable[[], None],
        limits: PublishLimits | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._ids = ids
        self._work_may_be_due = work_may_be_due
        self.limits = limits or PublishLimits()
        self._waiting: deque[_Pending] = deque()
        self._in_flight = 0  # data bytes of the publishes not yet answered
        self._room = asyncio.Event()  # set when in-flight bytes were released
        self._open = False
        self._drainer: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._open = True

    async def stop(self) -> None:
        """Refuse new publishes, and commit the ones already waiting."""
        self._open = False
        if self._drainer is not None:
            await self._drainer

    async def publish(self, events: Sequence[NewEvent]) -> list[PublishResult]:
        """Store events; answers after the commit."""
        if not self._open:
            raise Unavailable("the broker is shutting down")
        size = sum(len(event.data) for event in events)
        if self._in_flight and self._in_flight + size > self.limits.max_in_flight_bytes:
            await self._room_for(size)
        self._in_flight += size
        try:
            done: asyncio.Future[list[PublishResult]] = asyncio.get_running_loop().create_future()
            self._waiting.append(_Pending(events, done))
            if self._drainer is None:
                self._drainer = asyncio.create_task(self._drain(), name="publisher")
            return await done
        finally:
            self._in_flight -= size
            self._room.set()

    async def _room_for(self, size: int) -> None:
        """Wait until `size` more bytes fit in flight (a publish alone always fits), or
        refuse: received publishes are held in memory until they commit, and a burst of
        large ones would otherwise hold it all."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.limits.in_flight_wait
        while self._in_flight and self._in_flight + size > self.limits.max_in_flight_bytes:
            left = deadline - loop.time()
            if left <= 0:
                raise ResourceExhausted(
                    "the broker holds as many publishes as it may; retry shortly"
                )
            self._room.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._room.wait(), left)

    async def _drain(self) -> None:
        """Commit waiting publishes group by group until none wait; publishes that arrive
        during a commit form the next group.

        Each commit costs an fsync, about 0.1 ms of kernel CPU whatever its size. When
        the last group held several publishes (callers publish concurrently) but few
        events wait, the next commit lingers (`commit_linger`) so that it carries more;
        a lone publisher never waits."""
        try:
            crowded = False
            while self._waiting:
                if crowded and self._waiting_count() < LINGER_BELOW_EVENTS:
                    await asyncio.sleep(self.limits.commit_linger)
                group = [self._waiting.popleft()]
                count = len(group[0].events)
                while self._waiting and count < self.limits.max_batch:
                    group.append(self._waiting.popleft())
                    count += len(group[-1].events)
                crowded = len(group) >= CROWD
                await self._commit(group)
        finally:
            self._drainer = None

    def _waiting_count(self) -> int:
        return sum(len(pending.events) for pending in self._waiting)

    async def _commit(self, group: list[_Pending]) -> None:
        """Commit the group in one transaction. When that fails for something its data
        did (a refused write, a defect), each caller's publish is retried in a transaction
        of its own, so one bad publish fails alone; when the database itself failed, every
        caller fails at once, as retrying each would only fail slower."""
        events = [event for pending in group for event in pending.events]
        try:
            results = await self._store.publish(events, self._clock.now(), self._ids.new)
        except Exception as exc:  # a defect too must fail its callers, never leave them hanging
            of_the_database = isinstance(exc, StoreError | Unavailable)
            if len(group) > 1 and (isinstance(exc, StoreRefused) or not of_the_database):
                for pending in group:
                    await self._commit([pending])
                return
            for pending in group:
                if not pending.done.done():
                    pending.done.set_exception(exc)
            return
        start = 0
        for pending in group:
            end = start + len(pending.events)
            if not pending.done.done():
                pending.done.set_result(results[start:end])
            start = end
        if any(r.queued for r in results):
            self._work_may_be_due()
