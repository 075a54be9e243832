"""What the broker decides after an attempt (Retry-After, redirects, auto-disable, expiry),
driven through a real gateway and loopback receivers, with time moved by ManualClock."""

from __future__ import annotations

import pytest
from aiohttp import web
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from broker.clock import ManualClock
from broker.dispatcher import DispatchSettings
from hookwire.v1 import deliveries_pb2 as dpb
from hookwire.v1 import events_pb2 as epb
from hookwire.v1 import subscriptions_pb2 as spb
from tests.support.in_process import Api, connect
from tests.support.receivers import Hit, answer_status
from tests.support.waiting import eventually

DAY = 86400.0
# The dispatcher sleeps in real time until the next due delivery (at most max_idle); a short
# max_idle lets it notice promptly that the ManualClock was moved past a long delay.
QUICK = DispatchSettings(max_idle=0.02)


async def only_delivery(api: Api, sub_id: str, state: int, attempts: int) -> dpb.Delivery:
    async def check() -> dpb.Delivery | None:
        found = await api.deliveries_of(subscription_id=sub_id)
        if len(found) == 1 and (found[0].state, found[0].attempt_count) == (state, attempts):
            return found[0]
        return None

    return await eventually(check)


async def get_subscription(api: Api, sub_id: str) -> spb.Subscription:
    response = await api.subscriptions.GetSubscription(spb.GetSubscriptionRequest(id=sub_id))
    return response.subscription


async def test_retry_after_is_honoured_exactly_on_throttling(
    start_broker, start_gateway, start_receiver, clock: ManualClock
) -> None:
    answers = iter([web.Response(status=429, headers={"Retry-After": "120"}), web.Response()])
    receiver = await start_receiver(lambda hit: next(answers))
    broker = await start_broker(dispatch=QUICK)
    await start_gateway(broker)
    async with connect(broker) as api:
        sub = await api.create_subscription(url=receiver.url)
        await api.events.PublishEvent(epb.PublishEventRequest(type="a.b", data=b"{}"))

        throttled = await only_delivery(api, sub.id, dpb.DELIVERY_STATE_PENDING, 1)
        assert throttled.last_status_code == 429
        due = throttled.next_attempt_time.ToNanoseconds() / 1e9 - clock.now()
        assert due == pytest.approx(120, abs=1e-3)  # no jitter on the endpoint's own delay
        [attempt] = await api.attempts_of(throttled.id)
        assert attempt.result == dpb.ATTEMPT_RESULT_THROTTLED

        clock.advance(121)
        await only_delivery(api, sub.id, dpb.DELIVERY_STATE_DELIVERED, 2)
        assert len(receiver.hits) == 2


async def test_redirects_are_not_followed(api: Api, gateway: None, start_receiver) -> None:
    def redirect(hit: Hit) -> web.Response:
        if hit.path == "/moved":
            return web.Response(text="followed!")
        raise web.HTTPFound("/moved")

    receiver = await start_receiver(redirect)
    sub = await api.create_subscription(url=receiver.url)
    await api.events.PublishEvent(epb.PublishEventRequest(type="a.b", data=b"{}"))

    delivery = await only_delivery(api, sub.id, dpb.DELIVERY_STATE_PENDING, 1)

    assert delivery.last_status_code == 302
    assert "redirect" in delivery.last_error
    [attempt] = await api.attempts_of(delivery.id)
    assert attempt.result == dpb.ATTEMPT_RESULT_FAILED
    assert [h.path for h in receiver.hits] == ["/hooks"]


async def test_cookies_an_endpoint_sets_are_never_sent_back(
    api: Api, gateway: None, start_receiver
) -> None:
    def set_cookie(hit: Hit) -> web.Response:
        response = web.Response()
        response.set_cookie("session", "from-" + hit.path.strip("/"), path="/")
        return response

    receiver = await start_receiver(set_cookie)
    url = receiver.url.replace("127.0.0.1", "localhost")  # cookie jars ignore IP hosts
    setter = await api.create_subscription(url=url, event_types=["first"])
    other = await api.create_subscription(url=url + "/other", event_types=["second"])
    await api.events.PublishEvent(epb.PublishEventRequest(type="first", data=b"{}"))
    await only_delivery(api, setter.id, dpb.DELIVERY_STATE_DELIVERED, 1)
    await api.events.PublishEvent(epb.PublishEventRequest(type="first", data=b"{}"))
    await api.events.PublishEvent(epb.PublishEventRequest(type="second", data=b"{}"))
    await only_delivery(api, other.id, dpb.DELIVERY_STATE_DELIVERED, 1)
    await eventually(lambda: len(receiver.hits) == 3 or None)

    assert all("cookie" not in {k.lower() for k in hit.headers} for hit in receiver.hits)


async def test_subscription_failing_for_five_days_is_disabled(
    start_broker, start_gateway, start_receiver, clock: ManualClock
) -> None:
    receiver = await start_receiver(answer_status(500))
    broker = await start_broker(dispatch=QUICK)
    await start_gateway(broker)
    async with connect(broker) as api:
        three_days = Duration(seconds=int(3 * DAY))
        sub = await api.create_subscription(url=receiver.url, retry_schedule=[three_days] * 2)
        await api.events.PublishEvent(epb.PublishEventRequest(type="a.b", data=b"{}"))

        await only_delivery(api, sub.id, dpb.DELIVERY_STATE_PENDING, 1)
        clock.advance(4 * DAY)  # past the jittered 3 days
        await only_delivery(api, sub.id, dpb.DELIVERY_STATE_PENDING, 2)
        assert (await get_subscription(api, sub.id)).state == spb.SUBSCRIPTION_STATE_ACTIVE

        clock.advance(4 * DAY)  # failing for 8 days now; the schedule is also used up
        await only_delivery(api, sub.id, dpb.DELIVERY_STATE_EXHAUSTED, 3)
        disabled = await get_subscription(api, sub.id)
        assert disabled.state == spb.SUBSCRIPTION_STATE_DISABLED
        assert "failing continuously" in disabled.disabled_reason
        assert len(receiver.hits) == 3


async def test_nothing_new_is_queued_for_an_expired_subscription(
    api: Api, clock: ManualClock
) -> None:
    lapse = Timestamp(seconds=int(clock.now() + DAY))
    expiring = await api.create_subscription(expire_time=lapse)
    lasting = await api.create_subscription()
    await api.events.PublishEvent(epb.PublishEventRequest(type="a.b", data=b"{}"))
    clock.advance(2 * DAY)
    late = await api.events.PublishEvent(epb.PublishEventRequest(type="a.b", data=b"{}"))

    assert len(await api.deliveries_of(subscription_id=expiring.id)) == 1
    queued = await api.deliveries_of(subscription_id=lasting.id)
    assert len(queued) == 2 and queued[-1].event_id == late.event.id


async def test_expired_subscription_receives_nothing(
    api: Api, broker, start_gateway, start_receiver, clock: ManualClock
) -> None:
    receiver = await start_receiver(answer_status(200))
    base = f"http://127.0.0.1:{receiver.port}"
    lapse = Timestamp(seconds=int(clock.now() + DAY))
    expiring = await api.create_subscription(
        url=f"{base}/expiring", event_types=["old.*"], expire_time=lapse
    )
    live = await api.create_subscription(url=f"{base}/live", event_types=["new.*"])
    await api.events.PublishEvent(epb.PublishEventRequest(type="old.thing", data=b"{}"))
    clock.advance(2 * DAY)  # `expiring` lapses with its delivery still queued
    await api.events.PublishEvent(epb.PublishEventRequest(type="new.thing", data=b"{}"))

    # One credit: the older (expired) delivery would be leased and sent before the live one.
    await start_gateway(broker, concurrency=1)
    await only_delivery(api, live.id, dpb.DELIVERY_STATE_DELIVERED, 1)

    assert [h.path for h in receiver.hits] == ["/live"]
    [held] = await api.deliveries_of(subscription_id=expiring.id)
    assert held.attempt_count == 0


async def test_blocked_address_is_a_recorded_failure(
    start_broker, start_gateway, start_receiver
) -> None:
    """Without an allow-list the gateway refuses loopback: the attempt is recorded as
    BLOCKED with the reason, the receiver never sees a request, and nothing crashes."""
    receiver = await start_receiver(answer_status(200))
    broker = await start_broker(dispatch=QUICK)
    await start_gateway(broker, allowed_cidrs="")
    async with connect(broker) as api:
        sub = await api.create_subscription(url=receiver.url)
        await api.events.PublishEvent(epb.PublishEventRequest(type="a.b", data=b"{}"))

        delivery = await only_delivery(api, sub.id, dpb.DELIVERY_STATE_PENDING, 1)

        [attempt] = await api.attempts_of(delivery.id)
        assert attempt.result == dpb.ATTEMPT_RESULT_BLOCKED
        assert attempt.status_code == 0
        assert "refusing to connect to 127.0.0.1" in attempt.error
        assert "loopback" in delivery.last_error
        assert receiver.hits == []
