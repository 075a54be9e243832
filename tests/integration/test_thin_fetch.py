"""THIN notifications: the webhook carries no data, only a `data_url` on the gateway that
the subscriber fetches back with a token bound to its subscription and the event."""

from __future__ import annotations

import json
import time

import aiohttp
import grpc

from broker.server import Broker
from gateway import signing
from hookwire.v1 import deliveries_pb2 as dpb
from hookwire.v1 import events_pb2 as epb
from hookwire.v1 import subscriptions_pb2 as spb
from tests.support.in_process import Api, expect_rpc_error
from tests.support.ports import free_port
from tests.support.receivers import answer_status
from tests.support.waiting import eventually


async def thin_notification(api: Api, receiver, event_type: str, data: bytes, **publish):
    sub = await api.create_subscription(url=receiver.url, payload_mode=spb.PAYLOAD_MODE_THIN)
    event_id = (
        await api.events.PublishEvent(
            epb.PublishEventRequest(type=event_type, data=data, **publish)
        )
    ).event.id

    async def delivered() -> bool:
        found = await api.deliveries_of(subscription_id=sub.id)
        return bool(found) and found[0].state == dpb.DELIVERY_STATE_DELIVERED

    await eventually(delivered)
    [hit] = receiver.hits
    return sub, event_id, hit


async def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes, str]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as response:
        return response.status, await response.read(), response.content_type


async def test_thin_notification_data_is_fetched_back_with_its_token(
    api: Api, broker: Broker, start_gateway, start_receiver
) -> None:
    port = free_port()
    await start_gateway(broker, http_address=f"127.0.0.1:{port}")
    receiver = await start_receiver(answer_status(200))
    data = b'{ "amount" : 12.50 }'
    sub, event_id, hit = await thin_notification(api, receiver, "invoice.paid", data)

    body = json.loads(hit.body)
    assert "data" not in body and b"12.50" not in hit.body
    assert signing.verify([sub.secret], hit.headers, hit.body, now=int(time.time())) == event_id
    data_url = body["data_url"]
    assert data_url.startswith(f"http://127.0.0.1:{port}/events/{event_id}?")

    status, fetched, content_type = await fetch(data_url)
    assert (status, fetched, content_type) == (200, data, "application/json")

    base, _, query = data_url.partition("?")
    token = query.removeprefix("access_token=")
    status, fetched, _ = await fetch(base, headers={"Authorization": f"Bearer {token}"})
    assert (status, fetched) == (200, data)
    assert (await fetch(base))[0] == 401
    assert (await fetch(f"{base}?access_token={token[:-2]}xx"))[0] == 401


async def test_fetch_token_grants_only_its_own_event(
    api: Api, broker: Broker, start_gateway, start_receiver
) -> None:
    await start_gateway(broker)
    receiver = await start_receiver(answer_status(200))
    _, event_id, hit = await thin_notification(api, receiver, "a.b", b"{}")
    token = json.loads(hit.body)["data_url"].partition("access_token=")[2]
    other = await api.events.PublishEvent(epb.PublishEventRequest(type="x.y", data=b"[1]"))

    granted = await api.events.GetEvent(epb.GetEventRequest(id=event_id, access_token=token))
    assert granted.event.id == event_id
    await expect_rpc_error(
        api.events.GetEvent(epb.GetEventRequest(id=other.event.id, access_token=token)),
        grpc.StatusCode.UNAUTHENTICATED,
    )
    await expect_rpc_error(
        api.events.GetEvent(epb.GetEventRequest(id=event_id, access_token="ft1.sub_x.1.bad")),
        grpc.StatusCode.UNAUTHENTICATED,
    )


async def test_data_url_names_the_port_the_gateway_listens_on(
    api: Api, broker: Broker, start_gateway, start_receiver
) -> None:
    await start_gateway(broker, http_address="127.0.0.1:0")
    receiver = await start_receiver(answer_status(200))
    _, _, hit = await thin_notification(api, receiver, "a.b", b'{"n":1}')

    data_url = json.loads(hit.body)["data_url"]
    assert not data_url.startswith("http://127.0.0.1:0/")
    status, fetched, _ = await fetch(data_url)
    assert (status, fetched) == (200, b'{"n":1}')
