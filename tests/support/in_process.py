"""A broker and gateways in the test's event loop, and gRPC clients for them.

Everything here drives real parts: a real broker (SQLite file in tmp_path, gRPC on
127.0.0.1:0), real gRPC channels. The fixtures that start them live in
tests/integration/conftest.py; `StartBroker` and `StartGateway` are their types.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest

from broker.server import Broker
from gateway.broker_channel import broker_channel
from hookwire.v1 import (
    deliveries_pb2,
    deliveries_pb2_grpc,
    events_pb2_grpc,
    sources_pb2_grpc,
    subscriptions_pb2,
    subscriptions_pb2_grpc,
    tokens_pb2_grpc,
)

StartBroker = Callable[..., Awaitable[Broker]]
StartGateway = Callable[..., Awaitable[None]]

# The tokens every in-process broker of the tests is provisioned with (AccessSettings).
ADMIN_TOKEN = "test-admin-token-" + "a" * 32
GATEWAY_TOKEN = "test-gateway-token-" + "g" * 32


async def expect_rpc_error(
    call: Awaitable[object], code: grpc.StatusCode, field: str | None = None
) -> str:
    """Await `call`, require it to fail with `code`; with `field`, require the details to
    name that field (`<field>: <problem>`). Returns the details."""
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call
    error = caught.value
    details = error.details() or ""
    assert error.code() == code, f"expected {code}, got {error.code()}: {details}"
    if field is not None:
        assert details.startswith(f"{field}:"), f"details {details!r} do not name {field!r}"
    return details


@dataclass
class Api:
    """Generated stubs for every hookwire.v1 service on one channel."""

    channel: grpc.aio.Channel
    events: events_pb2_grpc.EventServiceAsyncStub = field(init=False)
    subscriptions: subscriptions_pb2_grpc.SubscriptionServiceAsyncStub = field(init=False)
    deliveries: deliveries_pb2_grpc.DeliveryServiceAsyncStub = field(init=False)
    sources: sources_pb2_grpc.SourceServiceAsyncStub = field(init=False)
    tokens: tokens_pb2_grpc.TokenServiceAsyncStub = field(init=False)

    def __post_init__(self) -> None:
        self.events = events_pb2_grpc.EventServiceStub(self.channel)
        self.subscriptions = subscriptions_pb2_grpc.SubscriptionServiceStub(self.channel)
        self.deliveries = deliveries_pb2_grpc.DeliveryServiceStub(self.channel)
        self.sources = sources_pb2_grpc.SourceServiceStub(self.channel)
        self.tokens = tokens_pb2_grpc.TokenServiceStub(self.channel)

    async def create_subscription(self, **fields: Any) -> subscriptions_pb2.Subscription:
        """Create a subscription; NONE verification and `*` unless the caller says otherwise."""
        fields.setdefault("url", "https://receiver.example.com/hooks")
        fields.setdefault("event_types", ["*"])
        fields.setdefault("verification", subscriptions_pb2.VERIFICATION_MODE_NONE)
        response = await self.subscriptions.CreateSubscription(
            subscriptions_pb2.CreateSubscriptionRequest(
                subscription=subscriptions_pb2.Subscription(**fields)
            )
        )
        return response.subscription

    async def deliveries_of(self, **filters: Any) -> list[deliveries_pb2.Delivery]:
        """Every delivery matching the filters (all pages)."""
        found: list[deliveries_pb2.Delivery] = []
        token = ""
        while True:
            page = await self.deliveries.ListDeliveries(
                deliveries_pb2.ListDeliveriesRequest(page_token=token, **filters)
            )
            found.extend(page.deliveries)
            token = page.next_page_token
            if not token:
                return found

    async def attempts_of(self, delivery_id: str) -> list[deliveries_pb2.DeliveryAttempt]:
        page = await self.deliveries.ListDeliveryAttempts(
            deliveries_pb2.ListDeliveryAttemptsRequest(delivery_id=delivery_id)
        )
        return list(page.attempts)


@contextlib.asynccontextmanager
async def connect(broker: Broker, token: str = ADMIN_TOKEN) -> AsyncIterator[Api]:
    """A real gRPC channel to `broker` calling with `token` (none when empty), every stub."""
    async with broker_channel(f"127.0.0.1:{broker.port}", token) as channel:
        yield Api(channel)
