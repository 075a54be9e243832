"""One bad publish never fails another: each string field of a publish is refused with
INVALID_ARGUMENT naming it, the store finds every key it stored (NUL included), and a
group commit that a publish breaks commits everyone else's publishes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import grpc
import pytest

from broker.clock import ManualClock, SeededRandom
from broker.domain import NewEvent
from broker.errors import ResourceExhausted
from broker.ids import IdFactory
from broker.publishing import Publisher, PublishLimits
from broker.storage.contract import StoreError
from broker.storage.sqlite import SqliteStore
from hookwire.v1 import events_pb2
from tests.support.in_process import Api, connect, expect_rpc_error

INVALID = grpc.StatusCode.INVALID_ARGUMENT


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = await SqliteStore.open(str(tmp_path / "bad-publishes.db"))
    yield opened
    await opened.close()


def good(n: int) -> events_pb2.PublishEventRequest:
    return events_pb2.PublishEventRequest(
        type="order.created", data=b'{"n": %d}' % n, idempotency_key=f"good-{n}"
    )


BAD_FIELDS: list[tuple[dict[str, Any], str]] = [
    ({"idempotency_key": "\x00"}, "idempotency_key"),
    ({"idempotency_key": "key\x00tail"}, "idempotency_key"),
    ({"idempotency_key": "line\nbreak"}, "idempotency_key"),
    ({"content_type": "text/plain" + "x" * 1_100_000}, "content_type"),
    ({"content_type": "text/plain\x00"}, "content_type"),
    ({"attributes": {"k\x00": "v"}}, "attributes"),
    ({"attributes": {"k": "v\x00"}}, "attributes"),
]


@pytest.mark.parametrize(("fields", "field"), BAD_FIELDS)
async def test_each_bad_string_field_is_refused_by_name_and_nothing_is_stored(
    api: Api, fields: dict[str, Any], field: str
) -> None:
    request = events_pb2.PublishEventRequest(type="order.created", data=b"{}", **fields)
    await expect_rpc_error(api.events.PublishEvent(request), INVALID, field)
    page = await api.events.ListEvents(events_pb2.ListEventsRequest())
    assert list(page.events) == []


async def test_a_nul_idempotency_key_is_refused_every_time_and_never_stored(api: Api) -> None:
    request = events_pb2.PublishEventRequest(type="order.created", idempotency_key="\x00")
    for _ in range(3):
        await expect_rpc_error(api.events.PublishEvent(request), INVALID, "idempotency_key")
    response = await api.events.PublishEvent(good(1))
    repeat = await api.events.PublishEvent(good(1))
    assert repeat.duplicate and repeat.event.id == response.event.id


async def test_bad_publishes_in_the_same_instant_as_200_good_ones_fail_alone(api: Api) -> None:
    sub = await api.create_subscription(event_types=["order.*"])
    bad = [
        events_pb2.PublishEventRequest(type="order.created", data=b"{}", **fields)
        for fields, _ in BAD_FIELDS
    ]
    requests = [good(n) for n in range(200)]
    for n, request in enumerate(bad):
        requests.insert(n * 25, request)
    outcomes = await asyncio.gather(
        *(api.events.PublishEvent(r) for r in requests), return_exceptions=True
    )

    refused = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    accepted = [o for o in outcomes if isinstance(o, events_pb2.PublishEventResponse)]
    assert len(refused) == len(bad) and all(o.code() == INVALID for o in refused)
    assert len(accepted) == 200
    assert not any(o.duplicate for o in accepted)
    deliveries = await api.deliveries_of(subscription_id=sub.id)
    assert sorted(d.event_id for d in deliveries) == sorted(o.event.id for o in accepted)


async def test_the_store_finds_a_stored_key_holding_nul_and_answers_duplicate(
    store: SqliteStore,
) -> None:
    make_id = IdFactory(ManualClock(), SeededRandom()).new
    for key in ["\x00", "a\x00b", "a"]:
        new = NewEvent("order.created", b"{}", "application/json", {}, key)
        [first] = await store.publish([new], 1.0, make_id)
        [again] = await store.publish([new], 2.0, make_id)
        assert not first.duplicate
        assert again.duplicate and again.event.id == first.event.id


async def test_a_publish_the_store_cannot_hold_fails_alone_in_its_group_commit(
    store: SqliteStore,
) -> None:
    clock = ManualClock()
    pub = Publisher(
        store, clock, IdFactory(clock, SeededRandom()), lambda: None,
        PublishLimits(commit_linger=0.003),
    )  # fmt: skip
    pub.start()
    unstorable = NewEvent("order.created", b"{}", "application/json", {}, "\ud800")
    goods = [
        [NewEvent("order.created", b'{"n": %d}' % n, "application/json", {}, f"k{n}")]
        for n in range(200)
    ]
    batches = goods[:100] + [[unstorable]] * 3 + goods[100:]
    outcomes = await asyncio.gather(*(pub.publish(b) for b in batches), return_exceptions=True)
    await pub.stop()

    failed = [o for o in outcomes if isinstance(o, BaseException)]
    stored = [result for o in outcomes if isinstance(o, list) for result in o]
    assert len(failed) == 3 and all(isinstance(o, UnicodeEncodeError) for o in failed)
    assert len(stored) == 200
    for result in stored:
        assert await store.get_event(result.event.id) is not None


# -- memory stays bounded --------------------------------------------------------------------


async def test_a_request_over_the_receive_limit_is_resource_exhausted(start_broker) -> None:
    limits = PublishLimits(max_in_flight_bytes=256 * 1024)
    broker = await start_broker(publish=limits)
    async with connect(broker) as api:
        huge = events_pb2.PublishEventsRequest(
            events=[
                events_pb2.PublishEventRequest(type="order.created", data=b"0" * 200_000)
                for _ in range(2 * limits.max_request_bytes() // 200_000)
            ]
        )
        await expect_rpc_error(api.events.PublishEvents(huge), grpc.StatusCode.RESOURCE_EXHAUSTED)
        page = await api.events.ListEvents(events_pb2.ListEventsRequest())
        assert list(page.events) == []


def sized(n: int, size: int) -> list[NewEvent]:
    return [NewEvent("order.created", b"0" * size, "text/plain", {}, f"k{n}")]


async def test_publishes_beyond_the_in_flight_bytes_are_refused_after_a_short_wait(
    store: SqliteStore,
) -> None:
    clock = ManualClock()
    limits = PublishLimits(max_in_flight_bytes=2500, in_flight_wait=0.0)
    pub = Publisher(store, clock, IdFactory(clock, SeededRandom()), lambda: None, limits)
    pub.start()
    outcomes = await asyncio.gather(
        *(pub.publish(sized(n, 1000)) for n in range(10)), return_exceptions=True
    )
    refused = [o for o in outcomes if isinstance(o, ResourceExhausted)]
    stored = [o for o in outcomes if isinstance(o, list)]
    assert (len(stored), len(refused)) == (2, 8)

    waiting = replace(limits, in_flight_wait=5.0)
    pub.limits = waiting
    outcomes = await asyncio.gather(
        *(pub.publish(sized(n, 1000)) for n in range(10, 20)), return_exceptions=True
    )
    await pub.stop()
    assert all(isinstance(o, list) for o in outcomes)


async def test_the_in_flight_bound_answers_resource_exhausted_over_grpc(start_broker) -> None:
    broker = await start_broker(publish=PublishLimits(max_in_flight_bytes=1000, in_flight_wait=0))
    async with connect(broker) as api:
        requests = [
            events_pb2.PublishEventRequest(type="order.created", data=b'"%s"' % (b"x" * 900))
            for _ in range(50)
        ]
        outcomes = await asyncio.gather(
            *(api.events.PublishEvent(r) for r in requests), return_exceptions=True
        )
    refused = [o for o in outcomes if isinstance(o, grpc.aio.AioRpcError)]
    assert refused and all(o.code() == grpc.StatusCode.RESOURCE_EXHAUSTED for o in refused)
    assert len(refused) < 50


async def test_when_the_store_fails_every_publish_of_the_commit_fails_with_it(
    tmp_path: Path,
) -> None:
    closed = await SqliteStore.open(str(tmp_path / "closed.db"))
    clock = ManualClock()
    pub = Publisher(closed, clock, IdFactory(clock, SeededRandom()), lambda: None)
    pub.start()
    await closed.close()
    outcomes = await asyncio.gather(
        *(pub.publish(sized(n, 10)) for n in range(20)), return_exceptions=True
    )
    await pub.stop()
    assert all(isinstance(o, StoreError) for o in outcomes), outcomes
