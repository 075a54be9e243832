"""Helpers shared by the integration tests: polling, error assertions, a loopback receiver.

Everything here drives real parts: a real broker, real gRPC channels, real HTTP on loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
import pytest
from aiohttp import web

from broker.server import Broker
from hookwire.v1 import (
    deliveries_pb2,
    deliveries_pb2_grpc,
    events_pb2_grpc,
    sources_pb2_grpc,
    subscriptions_pb2,
    subscriptions_pb2_grpc,
)

T = TypeVar("T")


async def eventually(
    predicate: Callable[[], Awaitable[T] | T], within: float = 10.0, interval: float = 0.02
) -> T:
    """Poll `predicate` until it returns something truthy (and return it), or fail.

    Only for waiting on asynchronous work (a delivery crossing the gateway), never to let
    time pass: time-based behaviour is driven with ManualClock.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    last: Any = None
    while True:
        last = predicate()
        if inspect.isawaitable(last):
            last = await last
        if last:
            return last  # type: ignore[no-any-return]
        if loop.time() >= deadline:
            raise AssertionError(f"condition not met within {within}s (last value: {last!r})")
        await asyncio.sleep(interval)


def free_loopback_port() -> int:
    """A port the gateway can bind, so the test knows its address in advance."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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
    events: events_pb2_grpc.EventServiceStub = field(init=False)
    subscriptions: subscriptions_pb2_grpc.SubscriptionServiceStub = field(init=False)
    deliveries: deliveries_pb2_grpc.DeliveryServiceStub = field(init=False)
    sources: sources_pb2_grpc.SourceServiceStub = field(init=False)

    def __post_init__(self) -> None:
        self.events = events_pb2_grpc.EventServiceStub(self.channel)
        self.subscriptions = subscriptions_pb2_grpc.SubscriptionServiceStub(self.channel)
        self.deliveries = deliveries_pb2_grpc.DeliveryServiceStub(self.channel)
        self.sources = sources_pb2_grpc.SourceServiceStub(self.channel)

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
async def connect(broker: Broker) -> AsyncIterator[Api]:
    """A real gRPC channel to `broker`, with every stub."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{broker.port}") as channel:
        yield Api(channel)


@dataclass(frozen=True)
class Hit:
    """One HTTP request a receiver got."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


Handler = Callable[[Hit], Awaitable[web.StreamResponse] | web.StreamResponse]


class Receiver:
    """An aiohttp server on 127.0.0.1:0 that records every request and answers via `handler`."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.hits: list[Hit] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        hit = Hit(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=await request.read(),
        )
        self.hits.append(hit)
        answer = self.handler(hit)
        if inspect.isawaitable(answer):
            answer = await answer
        return answer


def answer_status(*statuses: int) -> Handler:
    """Answer the given statuses in turn (the last one repeats)."""
    remaining = list(statuses)

    def handler(hit: Hit) -> web.Response:
        status = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        return web.Response(status=status, text=f"status {status}")

    return handler


def echo_token(hit: Hit) -> web.Response:
    """A Graph/SharePoint style endpoint: echo `validationToken` as text/plain."""
    return web.Response(text=hit.query.get("validationToken", ""), content_type="text/plain")
