"""hookwire.v1.DeliveryService with a real gateway delivering to real loopback receivers."""

from __future__ import annotations

import base64
import json
import time

import grpc
import pytest
from aiohttp import web
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from broker.clock import ManualClock
from gateway import signing
from hookwire.v1 import deliveries_pb2 as dpb
from hookwire.v1 import events_pb2 as epb
from hookwire.v1 import subscriptions_pb2 as spb
from tests.support.in_process import Api, expect_rpc_error
from tests.support.receivers import InLoopReceiver, answer_status
from tests.support.waiting import eventually

DELIVERED = dpb.DELIVERY_STATE_DELIVERED
PENDING = dpb.DELIVERY_STATE_PENDING
FAILED = dpb.DELIVERY_STATE_FAILED


async def publish(api: Api, event_type: str = "invoice.paid", data: bytes = b'{"n":1}') -> str:
    response = await api.events.PublishEvent(epb.PublishEventRequest(type=event_type, data=data))
    return response.event.id


async def subscribe(api: Api, receiver: InLoopReceiver, path: str = "/hooks", **fields: object):
    url = f"http://127.0.0.1:{receiver.port}{path}"
    return await api.create_subscription(url=url, **fields)


async def single_delivery(api: Api, predicate, **filters: object) -> dpb.Delivery:
    async def check() -> dpb.Delivery | None:
        found = await api.deliveries_of(**filters)
        return found[0] if len(found) == 1 and predicate(found[0]) else None

    return await eventually(check)


def is_state(state: int, attempts: int):
    return lambda d: d.state == state and d.attempt_count == attempts


async def test_delivery_reaches_the_receiver_and_is_recorded(
    api: Api, gateway: None, start_receiver
) -> None:
    receiver = await start_receiver(answer_status(200))
    sub = await subscribe(
        api,
        receiver,
        event_types=["invoice.*"],
        headers={"X-Tenant": "acme"},
        properties={"region": "eu"},
        client_state="opaque-7",
    )
    event_id = await publish(api, "invoice.paid", b'{"amount": 12.5}')

    delivery = await single_delivery(api, is_state(DELIVERED, 1), subscription_id=sub.id)

    assert delivery.event_id == event_id
    assert delivery.subscription_id == sub.id
    assert delivery.event_type == "invoice.paid"
    assert delivery.last_status_code == 200
    assert delivery.last_error == ""
    [attempt] = await api.attempts_of(delivery.id)
    assert attempt.attempt_number == 1
    assert attempt.status_code == 200
    assert attempt.result == dpb.ATTEMPT_RESULT_SUCCEEDED
    assert attempt.delivery_id == delivery.id

    [hit] = receiver.hits
    assert hit.method == "POST"
    assert hit.headers["webhook-id"] == event_id
    assert signing.verify([sub.secret], hit.headers, hit.body, now=int(time.time())) == event_id
    body = json.loads(hit.body)
    assert body["id"] == event_id
    assert body["type"] == "invoice.paid"
    assert body["data"] == {"amount": 12.5}
    assert body["subscription_id"] == sub.id
    assert body["region"] == "eu"
    assert body["client_state"] == "opaque-7"
    assert hit.headers["x-tenant"] == "acme"
    assert hit.headers["content-type"] == "application/json"
    assert hit.headers["user-agent"].startswith("hookwire/")


async def test_list_deliveries_filters_by_event_and_state(
    api: Api, gateway: None, start_receiver
) -> None:
    receiver = await start_receiver(
        lambda hit: web.Response(status=200 if hit.path == "/ok" else 500)
    )
    ok = await subscribe(api, receiver, "/ok")
    # Default schedule: its retry falls due ~5 s later on the ManualClock, which stays put.
    failing = await subscribe(api, receiver, "/fail")
    first = await publish(api, "a.one")
    second = await publish(api, "a.two")

    async def settled() -> bool:
        found = await api.deliveries_of()
        return len(found) == 4 and all(d.attempt_count == 1 for d in found)

    await eventually(settled)

    by_event = await api.deliveries_of(event_id=first)
    assert sorted(d.subscription_id for d in by_event) == sorted([ok.id, failing.id])
    assert {d.event_id for d in by_event} == {first}

    delivered = await api.deliveries_of(state=DELIVERED)
    assert {(d.subscription_id, d.event_id) for d in delivered} == {(ok.id, first), (ok.id, second)}
    pending = await api.deliveries_of(state=PENDING)
    assert {(d.subscription_id, d.event_id) for d in pending} == {
        (failing.id, first),
        (failing.id, second),
    }
    assert all(d.last_status_code == 500 for d in pending)
    assert await api.deliveries_of(state=FAILED) == []

    both = await api.deliveries_of(event_id=second, state=PENDING)
    assert [(d.subscription_id, d.event_id) for d in both] == [(failing.id, second)]
    assert await api.deliveries_of(subscription_id=ok.id, state=PENDING) == []


async def test_list_deliveries_pages_and_validates(api: Api) -> None:
    await api.create_subscription()
    for i in range(3):
        await publish(api, f"a.e{i}")
    first = await api.deliveries.ListDeliveries(dpb.ListDeliveriesRequest(page_size=2))
    assert len(first.deliveries) == 2 and first.next_page_token
    rest = await api.deliveries.ListDeliveries(
        dpb.ListDeliveriesRequest(page_size=2, page_token=first.next_page_token)
    )
    assert len(rest.deliveries) == 1 and not rest.next_page_token
    assert not {d.id for d in first.deliveries} & {d.id for d in rest.deliveries}

    invalid = grpc.StatusCode.INVALID_ARGUMENT
    await expect_rpc_error(
        api.deliveries.ListDeliveries(dpb.ListDeliveriesRequest(page_size=-1)), invalid, "page_size"
    )
    await expect_rpc_error(
        api.deliveries.ListDeliveries(
            dpb.ListDeliveriesRequest(page_token=first.next_page_token, state=PENDING)
        ),
        invalid,
        "page_token",
    )


async def test_retry_delivery_sends_a_delivered_one_again(
    api: Api, gateway: None, start_receiver
) -> None:
    receiver = await start_receiver(answer_status(200))
    sub = await subscribe(api, receiver)
    event_id = await publish(api)
    delivery = await single_delivery(api, is_state(DELIVERED, 1), subscription_id=sub.id)

    retried = (
        await api.deliveries.RetryDelivery(dpb.RetryDeliveryRequest(id=delivery.id))
    ).delivery

    assert retried.id == delivery.id
    assert retried.state == PENDING
    again = await single_delivery(api, is_state(DELIVERED, 2), subscription_id=sub.id)
    attempts = await api.attempts_of(again.id)
    assert [a.attempt_number for a in attempts] == [1, 2]
    assert [a.status_code for a in attempts] == [200, 200]
    assert [h.headers["webhook-id"] for h in receiver.hits] == [event_id, event_id]


async def test_retry_and_attempts_of_unknown_delivery_are_not_found(api: Api) -> None:
    await expect_rpc_error(
        api.deliveries.RetryDelivery(dpb.RetryDeliveryRequest(id="dlv_nope")),
        grpc.StatusCode.NOT_FOUND,
    )
    await expect_rpc_error(
        api.deliveries.ListDeliveryAttempts(dpb.ListDeliveryAttemptsRequest(delivery_id="dlv_no")),
        grpc.StatusCode.NOT_FOUND,
    )
    await expect_rpc_error(
        api.deliveries.ListDeliveryAttempts(dpb.ListDeliveryAttemptsRequest()),
        grpc.StatusCode.INVALID_ARGUMENT,
        "delivery_id",
    )


async def test_failures_are_retried_on_the_subscriptions_schedule(
    api: Api, gateway: None, start_receiver, clock: ManualClock
) -> None:
    receiver = await start_receiver(answer_status(500, 500, 200))
    step = Duration(nanos=10_000_000)
    sub = await subscribe(api, receiver, retry_schedule=[step, step, step])
    event_id = await publish(api)

    for attempt_count in (1, 2):
        waiting = await single_delivery(
            api, is_state(PENDING, attempt_count), subscription_id=sub.id
        )
        assert waiting.last_status_code == 500
        # Due 10 ms (+/-20 % jitter) after the failure, on the broker's clock.
        due = waiting.next_attempt_time.ToNanoseconds() / 1e9 - clock.now()
        assert 0.008 - 1e-6 <= due <= 0.012 + 1e-6
        assert len(receiver.hits) == attempt_count
        clock.advance(1)

    delivery = await single_delivery(api, is_state(DELIVERED, 3), subscription_id=sub.id)
    attempts = await api.attempts_of(delivery.id)
    assert [a.status_code for a in attempts] == [500, 500, 200]
    assert [a.result for a in attempts] == [
        dpb.ATTEMPT_RESULT_FAILED,
        dpb.ATTEMPT_RESULT_FAILED,
        dpb.ATTEMPT_RESULT_SUCCEEDED,
    ]
    assert len(receiver.hits) == 3
    for hit in receiver.hits:
        assert hit.headers["webhook-id"] == event_id
        assert signing.verify([sub.secret], hit.headers, hit.body, now=int(time.time())) == event_id


async def test_gone_disables_the_subscription_and_fails_the_delivery(
    api: Api, gateway: None, start_receiver
) -> None:
    receiver = await start_receiver(answer_status(410))
    sub = await subscribe(api, receiver)
    await publish(api)

    delivery = await single_delivery(api, is_state(FAILED, 1), subscription_id=sub.id)

    assert delivery.last_status_code == 410
    [attempt] = await api.attempts_of(delivery.id)
    assert attempt.result == dpb.ATTEMPT_RESULT_GONE
    got = (
        await api.subscriptions.GetSubscription(spb.GetSubscriptionRequest(id=sub.id))
    ).subscription
    assert got.state == spb.SUBSCRIPTION_STATE_DISABLED
    assert "410" in got.disabled_reason
    listed = await api.subscriptions.ListSubscriptions(
        spb.ListSubscriptionsRequest(state=spb.SUBSCRIPTION_STATE_DISABLED)
    )
    assert [s.id for s in listed.subscriptions] == [sub.id]
    # A disabled subscription gets nothing new queued.
    await publish(api)
    assert len(await api.deliveries_of(subscription_id=sub.id)) == 1
    assert len(receiver.hits) == 1


async def test_thin_payload_leaves_the_data_out(api: Api, gateway: None, start_receiver) -> None:
    receiver = await start_receiver(answer_status(200))
    sub = await subscribe(api, receiver, payload_mode=spb.PAYLOAD_MODE_THIN)
    event_id = await publish(api, "invoice.paid", b'{"secret_amount": 1}')

    await single_delivery(api, is_state(DELIVERED, 1), subscription_id=sub.id)

    [hit] = receiver.hits
    body = json.loads(hit.body)
    assert body["id"] == event_id
    assert "data" not in body
    assert b"secret_amount" not in hit.body
    assert signing.verify([sub.secret], hit.headers, hit.body, now=int(time.time())) == event_id


def reject_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    keys = [k for k, _ in pairs]
    duplicated = sorted({k for k in keys if keys.count(k) > 1})
    assert not duplicated, f"duplicate JSON keys in webhook body: {duplicated}"
    return dict(pairs)


async def test_non_json_data_travels_base64_encoded(
    api: Api, gateway: None, start_receiver
) -> None:
    receiver = await start_receiver(answer_status(200))
    sub = await subscribe(api, receiver, properties={"region": "eu"}, client_state="cs")
    raw = bytes(range(256))
    await api.events.PublishEvent(
        epb.PublishEventRequest(type="file.put", data=raw, content_type="application/pdf")
    )

    await single_delivery(api, is_state(DELIVERED, 1), subscription_id=sub.id)

    body = json.loads(receiver.hits[0].body, object_pairs_hook=reject_duplicate_keys)
    assert base64.b64decode(body["data"]) == raw
    assert body["content_type"] == "application/pdf"
    assert (body["region"], body["client_state"]) == ("eu", "cs")


@pytest.mark.parametrize("key", ["content_type", "data_url", "data", "id"])
async def test_properties_cannot_shadow_envelope_keys(api: Api, key: str) -> None:
    await expect_rpc_error(
        api.subscriptions.CreateSubscription(
            spb.CreateSubscriptionRequest(
                subscription=spb.Subscription(
                    url="https://hooks.example.com/",
                    event_types=["*"],
                    verification=spb.VERIFICATION_MODE_NONE,
                    properties={key: "shadow"},
                )
            )
        ),
        grpc.StatusCode.INVALID_ARGUMENT,
        "subscription.properties",
    )


# -- ReplayEvents ------------------------------------------------------------------------------


async def test_replay_queues_matching_retained_events_of_the_window(
    api: Api, clock: ManualClock
) -> None:
    t0 = int(clock.now())
    first = await publish(api, "a.one")
    clock.advance(10)
    await publish(api, "b.two")  # not matched by the subscription below
    clock.advance(10)
    third = await publish(api, "a.three")
    clock.advance(10)
    sub = await api.create_subscription(event_types=["a.*"])
    assert await api.deliveries_of(subscription_id=sub.id) == []

    def replay(**fields: object):
        request = dpb.ReplayEventsRequest(subscription_id=sub.id, **fields)  # type: ignore[arg-type]
        return api.deliveries.ReplayEvents(request)

    # [start, end): the event created exactly at the end is left out.
    window = await replay(start_time=Timestamp(seconds=t0), end_time=Timestamp(seconds=t0 + 20))
    assert window.queued == 1
    assert [d.event_id for d in await api.deliveries_of(subscription_id=sub.id)] == [first]

    until_now = await replay(start_time=Timestamp(seconds=t0 + 1))
    assert until_now.queued == 1
    queued = await api.deliveries_of(subscription_id=sub.id)
    assert [d.event_id for d in queued] == [first, third]
    assert all(d.state == PENDING and d.attempt_count == 0 for d in queued)


async def test_replay_errors(api: Api, clock: ManualClock) -> None:
    sub = await api.create_subscription()
    now = int(clock.now())
    invalid = grpc.StatusCode.INVALID_ARGUMENT
    await expect_rpc_error(
        api.deliveries.ReplayEvents(dpb.ReplayEventsRequest(subscription_id=sub.id)),
        invalid,
        "start_time",
    )
    await expect_rpc_error(
        api.deliveries.ReplayEvents(
            dpb.ReplayEventsRequest(
                subscription_id=sub.id,
                start_time=Timestamp(seconds=now),
                end_time=Timestamp(seconds=now),
            )
        ),
        invalid,
        "end_time",
    )
    await expect_rpc_error(
        api.deliveries.ReplayEvents(
            dpb.ReplayEventsRequest(
                subscription_id="sub_nope", start_time=Timestamp(seconds=now - 60)
            )
        ),
        grpc.StatusCode.NOT_FOUND,
    )
