"""A subscription without a handshake may not name a literal internal address: the broker
refuses it on `subscription.url` at create and update, unless the operator's allowed CIDRs
(HOOKWIRE_ALLOWED_CIDRS) cover it. Real broker, real gRPC, real SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from google.protobuf.field_mask_pb2 import FieldMask

from broker.blocked_addresses import parse_cidrs
from broker.config import BrokerConfig
from broker.subscriptions import SubscriptionSettings
from hookwire.v1 import subscriptions_pb2 as spb
from tests.support.in_process import Api, StartBroker, connect, expect_rpc_error

INVALID = grpc.StatusCode.INVALID_ARGUMENT


@pytest.fixture
async def strict_api(start_broker: StartBroker) -> AsyncIterator[Api]:
    """A broker whose operator allowed only 10.9.0.0/16, so loopback is blocked."""
    settings = SubscriptionSettings(allowed_cidrs=parse_cidrs("10.9.0.0/16"))
    broker = await start_broker(subscriptions=settings)
    async with connect(broker) as client:
        yield client


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9000/hook", "http://2130706433/", "http://0x7f000001/", "http://0177.0.0.1/",
     "http://127.1/", "http://[::ffff:127.0.0.1]/", "http://169.254.169.254/latest/meta-data",
     "http://[64:ff9b::a9fe:a9fe]/", "http://10.1.2.3/", "http://100.64.0.1/", "http://[::1]/",
     "http://0x7f000001:99999/"],
)  # fmt: skip
async def test_creating_a_subscription_to_a_blocked_literal_is_invalid_and_stores_nothing(
    strict_api: Api, url: str
) -> None:
    details = await expect_rpc_error(
        strict_api.create_subscription(url=url), INVALID, "subscription.url"
    )
    assert "blocked" in details
    listed = await strict_api.subscriptions.ListSubscriptions(spb.ListSubscriptionsRequest())
    assert list(listed.subscriptions) == []


async def test_addresses_the_operator_allowed_and_host_names_are_accepted(strict_api: Api) -> None:
    allowed = await strict_api.create_subscription(url="http://10.9.4.2:8080/hook")
    named = await strict_api.create_subscription(url="http://localhost/hook")
    assert allowed.id and named.id


async def test_updating_a_subscription_to_a_blocked_literal_is_invalid(strict_api: Api) -> None:
    created = await strict_api.create_subscription(url="https://receiver.example.com/hooks")
    change = spb.Subscription(id=created.id, url="http://0177.0.0.1/hook")
    await expect_rpc_error(
        strict_api.subscriptions.UpdateSubscription(
            spb.UpdateSubscriptionRequest(subscription=change, update_mask=FieldMask(paths=["url"]))
        ),
        INVALID,
        "subscription.url",
    )
    unchanged = await strict_api.subscriptions.GetSubscription(
        spb.GetSubscriptionRequest(id=created.id)
    )
    assert unchanged.subscription.url == "https://receiver.example.com/hooks"


def test_the_broker_reads_the_allowed_cidrs_from_the_environment() -> None:
    config = BrokerConfig.from_env(
        {"HOOKWIRE_ADMIN_TOKEN": "a" * 40, "HOOKWIRE_ALLOWED_CIDRS": "127.0.0.0/8, ::1/128"}
    )
    assert config.subscriptions.allowed_cidrs == parse_cidrs("127.0.0.0/8,::1/128")
