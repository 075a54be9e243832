"""CreateSubscription's endpoint verification, performed by a real in-process gateway
against real loopback receivers."""

from __future__ import annotations

import asyncio

import grpc
from aiohttp import web
from google.protobuf.field_mask_pb2 import FieldMask

from broker.server import Broker
from broker.subscriptions import SubscriptionSettings
from hookwire.v1 import subscriptions_pb2 as spb
from tests.support.in_process import Api, connect, expect_rpc_error
from tests.support.receivers import Hit, answer_status, echo_token

FAILED_PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION


def create(api: Api, url: str, mode: int = spb.VERIFICATION_MODE_UNSPECIFIED, **fields: object):
    sub = spb.Subscription(url=url, event_types=["invoice.*"], verification=mode, **fields)  # type: ignore[arg-type]
    return api.subscriptions.CreateSubscription(spb.CreateSubscriptionRequest(subscription=sub))


async def assert_nothing_stored(api: Api) -> None:
    listed = await api.subscriptions.ListSubscriptions(spb.ListSubscriptionsRequest())
    assert list(listed.subscriptions) == []


# -- ECHO_TOKEN (the default) ------------------------------------------------------------------


async def test_echo_token_endpoint_that_echoes_becomes_active(
    api: Api, gateway: None, start_receiver
) -> None:
    receiver = await start_receiver(echo_token)

    sub = (await create(api, receiver.url)).subscription

    assert sub.state == spb.SUBSCRIPTION_STATE_ACTIVE
    assert sub.verification == spb.VERIFICATION_MODE_ECHO_TOKEN
    [hit] = receiver.hits
    assert hit.method == "POST"
    assert hit.path == "/hooks"
    assert hit.query["validationToken"]
    assert hit.headers["content-type"].startswith("text/plain")
    got = await api.subscriptions.GetSubscription(spb.GetSubscriptionRequest(id=sub.id))
    assert got.subscription.state == spb.SUBSCRIPTION_STATE_ACTIVE


async def test_echo_token_keeps_the_urls_own_query(api: Api, gateway: None, start_receiver) -> None:
    receiver = await start_receiver(echo_token)
    await create(api, receiver.url + "?tenant=acme", spb.VERIFICATION_MODE_ECHO_TOKEN)
    [hit] = receiver.hits
    assert hit.query["tenant"] == "acme"
    assert hit.query["validationToken"]


async def test_echo_token_wrong_body_is_refused_and_nothing_stored(
    api: Api, gateway: None, start_receiver
) -> None:
    receiver = await start_receiver(lambda hit: web.Response(text="definitely-not-the-token"))

    details = await expect_rpc_error(create(api, receiver.url), FAILED_PRECONDITION)

    assert "definitely-not-the-token" in details
    assert len(receiver.hits) == 1
    await assert_nothing_stored(api)


async def test_echo_token_server_error_is_refused_and_nothing_stored(
    api: Api, gateway: None, start_receiver
) -> None:
    receiver = await start_receiver(answer_status(500))

    details = await expect_rpc_error(create(api, receiver.url), FAILED_PRECONDITION)

    assert "500" in details
    assert len(receiver.hits) == 1
    await assert_nothing_stored(api)


async def test_echo_token_without_a_gateway_is_unavailable(api: Api, start_receiver) -> None:
    receiver = await start_receiver(echo_token)

    await expect_rpc_error(create(api, receiver.url), grpc.StatusCode.UNAVAILABLE)

    assert receiver.hits == []
    await assert_nothing_stored(api)


async def test_loopback_endpoint_without_allow_list_is_refused(
    api: Api, broker: Broker, start_gateway, start_receiver
) -> None:
    await start_gateway(broker, allowed_cidrs="")
    receiver = await start_receiver(echo_token)

    details = await expect_rpc_error(create(api, receiver.url), FAILED_PRECONDITION)

    assert "127.0.0.1" in details
    assert "loopback" in details
    assert receiver.hits == []
    await assert_nothing_stored(api)


# -- WEBSUB_CHALLENGE ---------------------------------------------------------------------------


def websub_echo(hit: Hit) -> web.Response:
    if hit.method != "GET" or hit.query.get("hub.mode") != "subscribe":
        return web.Response(status=400)
    return web.Response(text=hit.query["hub.challenge"])


async def test_websub_challenge_echoed_becomes_active(
    api: Api, gateway: None, start_receiver
) -> None:
    receiver = await start_receiver(websub_echo)

    sub = (await create(api, receiver.url, spb.VERIFICATION_MODE_WEBSUB_CHALLENGE)).subscription

    assert sub.state == spb.SUBSCRIPTION_STATE_ACTIVE
    [hit] = receiver.hits
    assert hit.method == "GET"
    assert hit.query["hub.challenge"]
    assert "invoice.*" in hit.query["hub.topic"]
    assert int(hit.query["hub.lease_seconds"]) > 0


async def test_websub_challenge_not_echoed_is_refused(
    api: Api, gateway: None, start_receiver
) -> None:
    receiver = await start_receiver(lambda hit: web.Response(text="nope"))

    details = await expect_rpc_error(
        create(api, receiver.url, spb.VERIFICATION_MODE_WEBSUB_CHALLENGE), FAILED_PRECONDITION
    )

    assert "nope" in details
    assert [h.method for h in receiver.hits] == ["GET"]
    await assert_nothing_stored(api)


async def test_websub_challenge_answered_404_is_refused(
    api: Api, gateway: None, start_receiver
) -> None:
    receiver = await start_receiver(answer_status(404))
    details = await expect_rpc_error(
        create(api, receiver.url, spb.VERIFICATION_MODE_WEBSUB_CHALLENGE), FAILED_PRECONDITION
    )
    assert "404" in details
    await assert_nothing_stored(api)


# -- CLOUDEVENTS_OPTIONS ------------------------------------------------------------------------


async def test_cloudevents_options_allowed_origin_becomes_active(
    api: Api, gateway: None, start_receiver
) -> None:
    def allow(hit: Hit) -> web.Response:
        if hit.method != "OPTIONS" or "webhook-request-origin" not in hit.headers:
            return web.Response(status=400)
        return web.Response(headers={"WebHook-Allowed-Origin": "*", "WebHook-Allowed-Rate": "120"})

    receiver = await start_receiver(allow)

    sub = (await create(api, receiver.url, spb.VERIFICATION_MODE_CLOUDEVENTS_OPTIONS)).subscription

    assert sub.state == spb.SUBSCRIPTION_STATE_ACTIVE
    assert sub.rate_limit == 120  # the endpoint's WebHook-Allowed-Rate
    assert [h.method for h in receiver.hits] == ["OPTIONS"]


async def test_cloudevents_options_without_allowed_origin_is_refused(
    api: Api, gateway: None, start_receiver
) -> None:
    receiver = await start_receiver(lambda hit: web.Response(status=200))

    details = await expect_rpc_error(
        create(api, receiver.url, spb.VERIFICATION_MODE_CLOUDEVENTS_OPTIONS), FAILED_PRECONDITION
    )

    assert "WebHook-Allowed-Origin" in details
    assert [h.method for h in receiver.hits] == ["OPTIONS"]
    await assert_nothing_stored(api)


async def test_cloudevents_options_other_origin_is_refused(
    api: Api, gateway: None, start_receiver
) -> None:
    receiver = await start_receiver(
        lambda hit: web.Response(headers={"WebHook-Allowed-Origin": "https://someone.else"})
    )
    details = await expect_rpc_error(
        create(api, receiver.url, spb.VERIFICATION_MODE_CLOUDEVENTS_OPTIONS), FAILED_PRECONDITION
    )
    assert "someone.else" in details
    await assert_nothing_stored(api)


# -- verification on update ------------------------------------------------------------------


async def test_changing_the_url_verifies_the_new_endpoint(
    api: Api, gateway: None, start_receiver
) -> None:
    good = await start_receiver(echo_token)
    bad = await start_receiver(answer_status(403))
    sub = (await create(api, good.url)).subscription

    await expect_rpc_error(
        api.subscriptions.UpdateSubscription(
            spb.UpdateSubscriptionRequest(
                subscription=spb.Subscription(id=sub.id, url=bad.url),
                update_mask=FieldMask(paths=["url"]),
            )
        ),
        FAILED_PRECONDITION,
    )
    assert len(bad.hits) == 1
    got = await api.subscriptions.GetSubscription(spb.GetSubscriptionRequest(id=sub.id))
    assert got.subscription.url == good.url


async def test_echo_token_endpoint_too_slow_is_refused_and_nothing_stored(
    start_broker, start_gateway, start_receiver
) -> None:
    """The endpoint answers correctly but after the time limit: refused, saying so."""
    released = asyncio.Event()

    async def late(hit: Hit) -> web.Response:
        await released.wait()
        return echo_token(hit)

    receiver = await start_receiver(late)
    broker: Broker = await start_broker(
        subscriptions=SubscriptionSettings(verification_timeout=0.2)
    )
    await start_gateway(broker)
    async with connect(broker) as api:
        details = await expect_rpc_error(create(api, receiver.url), FAILED_PRECONDITION)
        released.set()

        assert "no answer within 0.2s" in details
        assert len(receiver.hits) == 1
        await assert_nothing_stored(api)
