"""hookwire.v1.EventService over a real gRPC server backed by a real SQLite file."""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest

from broker.clock import ManualClock
from broker.publishing import PublishLimits
from hookwire.v1 import events_pb2
from tests.support.in_process import Api, connect, expect_rpc_error

INVALID = grpc.StatusCode.INVALID_ARGUMENT


def publish(
    event_type: str = "invoice.paid", data: bytes = b"{}", **fields: Any
) -> events_pb2.PublishEventRequest:
    return events_pb2.PublishEventRequest(type=event_type, data=data, **fields)


async def all_events(api: Api, type_filter: str = "") -> list[events_pb2.Event]:
    found: list[events_pb2.Event] = []
    token = ""
    while True:
        page = await api.events.ListEvents(
            events_pb2.ListEventsRequest(page_token=token, type=type_filter)
        )
        found.extend(page.events)
        token = page.next_page_token
        if not token:
            return found


# -- PublishEvent / GetEvent -------------------------------------------------------------


async def test_publish_returns_stored_event_and_get_returns_it_byte_exact(
    api: Api, clock: ManualClock
) -> None:
    # Odd spacing, key order, escapes and UTF-8: the stored bytes must be these bytes.
    data = b'{ "amount":12.50,  "currency" : "EUR",\n "note":"caf\xc3\xa9 \\u00e9", "n":[1,2 ,3]}'
    request = publish("invoice.paid", data, attributes={"tenant": "acme"})
    request.include_data = True
    response = await api.events.PublishEvent(request)

    event = response.event
    assert response.duplicate is False
    assert event.id.startswith("evt_") and len(event.id) == len("evt_") + 26
    assert event.type == "invoice.paid"
    assert event.content_type == "application/json"
    assert event.data == data
    assert dict(event.attributes) == {"tenant": "acme"}
    assert event.create_time.seconds == int(clock.now())

    fetched = (await api.events.GetEvent(events_pb2.GetEventRequest(id=event.id))).event
    assert fetched == event


async def test_publish_responses_leave_the_data_out_unless_asked(api: Api) -> None:
    data = b'{"amount": 42}'
    unary = await api.events.PublishEvent(publish("invoice.paid", data))
    asked = publish("invoice.paid", data)
    asked.include_data = True
    batch = await api.events.PublishEvents(
        events_pb2.PublishEventsRequest(events=[publish("invoice.paid", data), asked])
    )

    assert unary.event.data == b"" and unary.event.id
    assert [r.event.data for r in batch.results] == [b"", data]
    stored = await api.events.GetEvent(events_pb2.GetEventRequest(id=unary.event.id))
    assert stored.event.data == data


async def test_non_json_data_is_stored_byte_exact_with_its_content_type(api: Api) -> None:
    data = bytes(range(256))
    event = (
        await api.events.PublishEvent(
            publish("file.uploaded", data, content_type="application/octet-stream")
        )
    ).event
    fetched = (await api.events.GetEvent(events_pb2.GetEventRequest(id=event.id))).event
    assert fetched.data == data
    assert fetched.content_type == "application/octet-stream"


async def test_get_unknown_event_is_not_found(api: Api) -> None:
    await expect_rpc_error(
        api.events.GetEvent(events_pb2.GetEventRequest(id="evt_01H00000000000000000000000")),
        grpc.StatusCode.NOT_FOUND,
    )
    await expect_rpc_error(
        api.events.GetEvent(events_pb2.GetEventRequest(id="")), grpc.StatusCode.NOT_FOUND
    )


# -- idempotency ------------------------------------------------------------------------------


async def test_repeated_idempotency_key_returns_original_and_queues_nothing_new(
    api: Api,
) -> None:
    sub = await api.create_subscription(event_types=["order.*"])

    first = await api.events.PublishEvent(
        publish("order.created", b'{"n":1}', idempotency_key="order-42")
    )
    again = await api.events.PublishEvent(
        publish("order.created", b'{"n":2}', idempotency_key="order-42", include_data=True)
    )

    assert first.duplicate is False
    assert again.duplicate is True
    assert again.event.id == first.event.id
    assert again.event.data == b'{"n":1}'  # the original event, not the repeat
    assert again.event.idempotency_key == "order-42"
    deliveries = await api.deliveries_of(subscription_id=sub.id)
    assert [d.event_id for d in deliveries] == [first.event.id]
    assert [e.id for e in await all_events(api)] == [first.event.id]


async def test_events_without_idempotency_key_are_never_duplicates(api: Api) -> None:
    one = await api.events.PublishEvent(publish())
    two = await api.events.PublishEvent(publish())
    assert not one.duplicate and not two.duplicate
    assert one.event.id != two.event.id


# -- PublishEvents (batch) --------------------------------------------------------------------


async def test_batch_results_are_in_request_order(api: Api) -> None:
    types = ["a.one", "b.two", "c.three", "d.four"]
    response = await api.events.PublishEvents(
        events_pb2.PublishEventsRequest(
            events=[
                publish(t, f'{{"i":{i}}}'.encode(), include_data=True) for i, t in enumerate(types)
            ]
        )
    )
    assert [r.event.type for r in response.results] == types
    assert [r.event.data for r in response.results] == [f'{{"i":{i}}}'.encode() for i in range(4)]
    assert not any(r.duplicate for r in response.results)
    assert [e.id for e in await all_events(api)] == [r.event.id for r in response.results]


async def test_batch_repeating_a_key_marks_the_repeat_duplicate(api: Api) -> None:
    response = await api.events.PublishEvents(
        events_pb2.PublishEventsRequest(
            events=[publish(idempotency_key="k"), publish(idempotency_key="k")]
        )
    )
    first, second = response.results
    assert (first.duplicate, second.duplicate) == (False, True)
    assert second.event.id == first.event.id
    assert len(await all_events(api)) == 1


async def test_batch_with_one_invalid_event_stores_nothing(api: Api) -> None:
    sub = await api.create_subscription()
    request = events_pb2.PublishEventsRequest(
        events=[publish("ok.first"), publish("bad..type"), publish("ok.third")]
    )
    await expect_rpc_error(api.events.PublishEvents(request), INVALID, "events[1].type")
    assert await all_events(api) == []
    assert await api.deliveries_of(subscription_id=sub.id) == []


async def test_empty_batch_is_invalid(api: Api) -> None:
    await expect_rpc_error(
        api.events.PublishEvents(events_pb2.PublishEventsRequest()), INVALID, "events"
    )


# -- PublishEvent validation ---------------------------------------------------------------


@pytest.mark.parametrize("event_type", ["", "a..b", "has space", ".lead", "trail.", "a.*"])
async def test_bad_event_type_is_invalid_argument_naming_type(api: Api, event_type: str) -> None:
    await expect_rpc_error(api.events.PublishEvent(publish(event_type)), INVALID, "type")
    assert await all_events(api) == []


@pytest.mark.parametrize(
    "data", [b"not json", b"{", b'{"a":1}}', b"\xff\xfe", b'{"a":NaN}', b'"\xc3\x28"']
)
async def test_non_json_data_with_default_content_type_is_invalid(api: Api, data: bytes) -> None:
    await expect_rpc_error(api.events.PublishEvent(publish(data=data)), INVALID, "data")
    assert await all_events(api) == []


async def test_data_over_the_configured_limit_is_invalid(start_broker) -> None:
    broker = await start_broker(publish=PublishLimits(max_data_bytes=1024))
    async with connect(broker) as api:
        at_limit = b'"' + b"a" * 1022 + b'"'
        over = b'"' + b"a" * 1023 + b'"'
        assert len(at_limit) == 1024 and len(over) == 1025

        stored = await api.events.PublishEvent(publish(data=at_limit, include_data=True))
        assert stored.event.data == at_limit
        details = await expect_rpc_error(
            api.events.PublishEvent(publish(data=over)), INVALID, "data"
        )
        assert "1025" in details and "1024" in details
        assert [e.id for e in await all_events(api)] == [stored.event.id]


# -- ListEvents ---------------------------------------------------------------------------------


async def test_list_events_pages_oldest_first_without_gaps(api: Api) -> None:
    published = [(await api.events.PublishEvent(publish(f"thing.n{i}"))).event.id for i in range(5)]
    pages: list[list[str]] = []
    token = ""
    while True:
        page = await api.events.ListEvents(
            events_pb2.ListEventsRequest(page_size=2, page_token=token)
        )
        pages.append([e.id for e in page.events])
        token = page.next_page_token
        if not token:
            break
    assert pages == [published[0:2], published[2:4], published[4:5]]


async def test_list_events_filters_by_type_pattern(api: Api) -> None:
    types = ["invoice.paid", "invoices.paid", "invoice", "order.created", "invoice.line.added"]
    ids = {t: (await api.events.PublishEvent(publish(t))).event.id for t in types}

    under_invoice = await all_events(api, "invoice.*")
    assert [e.id for e in under_invoice] == [ids["invoice.paid"], ids["invoice.line.added"]]
    exact = await all_events(api, "order.created")
    assert [e.id for e in exact] == [ids["order.created"]]
    assert len(await all_events(api, "*")) == len(types)


async def test_list_events_type_filter_is_validated(api: Api) -> None:
    await expect_rpc_error(
        api.events.ListEvents(events_pb2.ListEventsRequest(type="a.*.b")), INVALID, "type"
    )


async def test_list_events_negative_page_size_is_invalid(api: Api) -> None:
    await expect_rpc_error(
        api.events.ListEvents(events_pb2.ListEventsRequest(page_size=-1)), INVALID, "page_size"
    )


@pytest.mark.parametrize("token", ["garbage!!", "bm90LWpzb24", "e30", "eyJhIjoxLCJmIjoyfQ"])
async def test_list_events_garbage_page_token_is_invalid(api: Api, token: str) -> None:
    await expect_rpc_error(
        api.events.ListEvents(events_pb2.ListEventsRequest(page_token=token)),
        INVALID,
        "page_token",
    )


async def test_list_events_token_reused_with_other_filter_is_invalid(api: Api) -> None:
    for i in range(3):
        await api.events.PublishEvent(publish(f"invoice.e{i}"))
    page = await api.events.ListEvents(events_pb2.ListEventsRequest(page_size=1, type="invoice.*"))
    assert page.next_page_token

    await expect_rpc_error(
        api.events.ListEvents(
            events_pb2.ListEventsRequest(page_size=1, page_token=page.next_page_token)
        ),
        INVALID,
        "page_token",
    )
    await expect_rpc_error(
        api.events.ListEvents(
            events_pb2.ListEventsRequest(
                page_size=1, page_token=page.next_page_token, type="order.*"
            )
        ),
        INVALID,
        "page_token",
    )
    # The same filter still accepts it.
    same = await api.events.ListEvents(
        events_pb2.ListEventsRequest(page_size=1, page_token=page.next_page_token, type="invoice.*")
    )
    assert [e.type for e in same.events] == ["invoice.e1"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"attributes": {"": "empty key"}}, "attributes"),
        ({"attributes": {f"k{i}": "v" for i in range(65)}}, "attributes"),
        ({"idempotency_key": "k" * 256}, "idempotency_key"),
    ],
)
async def test_bad_attributes_and_keys_are_invalid(
    api: Api, fields: dict[str, Any], field: str
) -> None:
    await expect_rpc_error(api.events.PublishEvent(publish(**fields)), INVALID, field)
    assert await all_events(api) == []


# -- group commit and durability -----------------------------------------------------------------


async def test_concurrent_publishes_are_all_stored_and_share_idempotency(api: Api) -> None:
    sub = await api.create_subscription(event_types=["burst.*"])
    distinct = [publish(f"burst.n{i}", idempotency_key=f"key-{i}") for i in range(40)]
    same = [publish("burst.same", idempotency_key="the-one") for _ in range(10)]

    responses = await asyncio.gather(*(api.events.PublishEvent(r) for r in distinct + same))

    distinct_ids = {r.event.id for r in responses[:40]}
    assert len(distinct_ids) == 40 and not any(r.duplicate for r in responses[:40])
    same_ids = {r.event.id for r in responses[40:]}
    assert len(same_ids) == 1
    assert sorted(r.duplicate for r in responses[40:]) == [False] + [True] * 9
    stored = {e.id for e in await all_events(api)}
    assert stored == distinct_ids | same_ids
    deliveries = await api.deliveries_of(subscription_id=sub.id)
    assert sorted(d.event_id for d in deliveries) == sorted(stored)


async def test_accepted_events_and_deliveries_survive_a_restart(
    start_broker, clock: ManualClock
) -> None:
    broker = await start_broker(db_name="durable.db")
    async with connect(broker) as api:
        sub = await api.create_subscription()
        request = publish(data=b'{"keep":true}', include_data=True)
        event = (await api.events.PublishEvent(request)).event
    await broker.stop(grace=1.0)
    broker.port = 0  # stopped here, not by the fixture
    clock.advance(1)

    reopened = await start_broker(db_name="durable.db")
    async with connect(reopened) as api:
        fetched = (await api.events.GetEvent(events_pb2.GetEventRequest(id=event.id))).event
        assert fetched == event
        [delivery] = await api.deliveries_of(subscription_id=sub.id)
        assert delivery.event_id == event.id
        again = await api.events.PublishEvent(publish(idempotency_key="after-restart"))
        assert again.event.id > event.id
