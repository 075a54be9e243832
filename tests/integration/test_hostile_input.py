"""Bad input at the gRPC edge gets a status that names what is wrong and changes nothing:
enum numbers the broker does not know, bytes that do not decode, health checks of unknown
services; and what a caller must not read back (header values) is never answered."""

from __future__ import annotations

import logging
from typing import Any

import grpc
import pytest
from aiohttp import web
from google.protobuf.field_mask_pb2 import FieldMask
from grpc_health.v1 import health_pb2, health_pb2_grpc

from broker.grpc.status import UNDECODABLE
from hookwire.v1 import deliveries_pb2, events_pb2, subscriptions_pb2
from tests.support.in_process import ADMIN_TOKEN, Api, expect_rpc_error
from tests.support.receivers import Hit, StartReceiver
from tests.support.waiting import eventually

INVALID = grpc.StatusCode.INVALID_ARGUMENT
UNKNOWN_NUMBER = 99


# -- enum numbers outside their range ------------------------------------------------------


async def test_listing_subscriptions_in_an_unknown_state_names_the_state(api: Api) -> None:
    request = subscriptions_pb2.ListSubscriptionsRequest(state=UNKNOWN_NUMBER)  # type: ignore[arg-type]
    await expect_rpc_error(api.subscriptions.ListSubscriptions(request), INVALID, "state")


async def test_listing_deliveries_in_an_unknown_state_names_the_state(api: Api) -> None:
    request = deliveries_pb2.ListDeliveriesRequest(state=UNKNOWN_NUMBER)  # type: ignore[arg-type]
    await expect_rpc_error(api.deliveries.ListDeliveries(request), INVALID, "state")


@pytest.mark.parametrize("field", ["payload_mode", "verification", "signing_algorithm"])
async def test_creating_with_an_unknown_enum_number_names_it_and_stores_nothing(
    api: Api, field: str
) -> None:
    draft = subscriptions_pb2.Subscription(
        url="https://receiver.example.com/hooks",
        event_types=["*"],
        verification=subscriptions_pb2.VERIFICATION_MODE_NONE,
    )
    setattr(draft, field, UNKNOWN_NUMBER)
    request = subscriptions_pb2.CreateSubscriptionRequest(subscription=draft)
    await expect_rpc_error(
        api.subscriptions.CreateSubscription(request), INVALID, f"subscription.{field}"
    )
    listed = await api.subscriptions.ListSubscriptions(subscriptions_pb2.ListSubscriptionsRequest())
    assert list(listed.subscriptions) == []


@pytest.mark.parametrize("field", ["payload_mode", "verification"])
async def test_updating_to_an_unknown_enum_number_names_it_and_changes_nothing(
    api: Api, field: str
) -> None:
    created = await api.create_subscription()
    change = subscriptions_pb2.Subscription(id=created.id)
    setattr(change, field, UNKNOWN_NUMBER)
    request = subscriptions_pb2.UpdateSubscriptionRequest(
        subscription=change, update_mask=FieldMask(paths=[field])
    )
    await expect_rpc_error(
        api.subscriptions.UpdateSubscription(request), INVALID, f"subscription.{field}"
    )
    got = await api.subscriptions.GetSubscription(
        subscriptions_pb2.GetSubscriptionRequest(id=created.id)
    )
    created.secret = ""  # answered by Create only
    assert got.subscription == created


# -- bytes that are no request -------------------------------------------------------------


@pytest.mark.parametrize(
    "method",
    [
        "/hookwire.v1.EventService/PublishEvent",
        "/hookwire.v1.SubscriptionService/ListSubscriptions",
        "/hookwire.v1.DeliveryService/ListDeliveries",
    ],
)
async def test_undecodable_request_bytes_are_invalid_argument_without_internals(
    api: Api, method: str
) -> None:
    call: Any = api.channel.unary_unary(method)
    for garbage in (b"\xff\xff\xff\xff", b"\x0a\x05ab", b"\x08" + b"\xff" * 11):
        details = await expect_rpc_error(
            call(garbage, metadata=(("authorization", f"Bearer {ADMIN_TOKEN}"),)), INVALID
        )
        assert details == UNDECODABLE
    page = await api.events.ListEvents(events_pb2.ListEventsRequest())
    assert list(page.events) == []


# -- a normal abort is no error ------------------------------------------------------------


async def test_health_of_an_unknown_service_logs_no_error(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    health = health_pb2_grpc.HealthStub(api.channel)
    with caplog.at_level(logging.DEBUG):
        await expect_rpc_error(
            health.Check(health_pb2.HealthCheckRequest(service="no.such.Service")),
            grpc.StatusCode.NOT_FOUND,
        )
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


# -- header values are write-only ----------------------------------------------------------


async def test_header_values_are_never_answered_but_still_sent_with_each_webhook(
    api: Api, gateway: None, start_receiver: StartReceiver
) -> None:
    receiver = await start_receiver(lambda hit: web.Response())
    secret_value = "Bearer downstream-credential-" + "s" * 24
    created = await api.create_subscription(
        url=receiver.url, headers={"Authorization": secret_value, "X-Tenant": "acme"}
    )
    got = await api.subscriptions.GetSubscription(
        subscriptions_pb2.GetSubscriptionRequest(id=created.id)
    )
    listed = await api.subscriptions.ListSubscriptions(subscriptions_pb2.ListSubscriptionsRequest())
    updated = await api.subscriptions.UpdateSubscription(
        subscriptions_pb2.UpdateSubscriptionRequest(
            subscription=subscriptions_pb2.Subscription(id=created.id, description="renamed"),
            update_mask=FieldMask(paths=["description"]),
        )
    )
    for answered in (created, got.subscription, *listed.subscriptions, updated.subscription):
        assert dict(answered.headers) == {"Authorization": "", "X-Tenant": ""}

    await api.events.PublishEvent(events_pb2.PublishEventRequest(type="a.b", data=b"{}"))

    def arrived() -> Hit | None:
        return receiver.hits[0] if receiver.hits else None

    hit = await eventually(arrived)
    assert hit.headers["authorization"] == secret_value
    assert hit.headers["x-tenant"] == "acme"


async def test_a_huge_unknown_id_is_not_found_with_a_cut_message(api: Api) -> None:
    request = subscriptions_pb2.GetSubscriptionRequest(id="sub_" + "x" * 100_000)
    details = await expect_rpc_error(
        api.subscriptions.GetSubscription(request), grpc.StatusCode.NOT_FOUND
    )
    assert len(details) <= 512
