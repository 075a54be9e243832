"""Fixtures for integration tests: a real broker (SQLite file in tmp_path, gRPC on
127.0.0.1:0), real gRPC clients, an in-process gateway and loopback HTTP receivers."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from broker.blocked_addresses import parse_cidrs
from broker.clock import ManualClock, SeededRandom
from broker.config import BrokerConfig
from broker.server import Broker
from broker.subscriptions import SubscriptionSettings
from broker.tokens import AccessSettings
from gateway.main import GatewayConfig, serve_gateway
from tests.support.in_process import (
    ADMIN_TOKEN,
    GATEWAY_TOKEN,
    Api,
    StartBroker,
    StartGateway,
    connect,
)
from tests.support.receivers import Handler, InLoopReceiver, StartReceiver
from tests.support.waiting import eventually

LOOPBACK_CIDRS = parse_cidrs("127.0.0.0/8")

# The key test brokers seal secrets under (base64 of 32 bytes), given directly so no key
# file is needed.
SECRET_KEY = base64.b64encode(bytes(range(32))).decode("ascii")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def start_broker(tmp_path: Path, clock: ManualClock) -> AsyncIterator[StartBroker]:
    """Start brokers on fresh SQLite files; `await start_broker(publish=PublishLimits(...))`."""
    started: list[Broker] = []

    async def start(db_name: str = "", **settings: Any) -> Broker:
        db = tmp_path / (db_name or f"hookwire-{len(started)}.db")
        settings.setdefault("grpc_address", "127.0.0.1:0")
        settings.setdefault("access", AccessSettings(admin=ADMIN_TOKEN, gateway=GATEWAY_TOKEN))
        settings.setdefault("secret_key", SECRET_KEY)
        # Like the gateways below, allow the loopback receivers tests subscribe.
        subscriptions = settings.get("subscriptions", SubscriptionSettings())
        if not subscriptions.allowed_cidrs:
            settings["subscriptions"] = replace(subscriptions, allowed_cidrs=LOOPBACK_CIDRS)
        config = BrokerConfig(database_url=f"sqlite:///{db}", **settings)
        broker = await Broker.start(config, clock=clock, rng=SeededRandom(len(started)))
        started.append(broker)
        return broker

    yield start
    for broker in reversed(started):
        if broker.port:  # tests may stop a broker themselves (set port to 0 when they do)
            await broker.stop(grace=2.0)


@pytest.fixture
async def broker(start_broker: StartBroker) -> Broker:
    return await start_broker()


@pytest.fixture
async def api(broker: Broker) -> AsyncIterator[Api]:
    async with connect(broker) as client:
        yield client


@pytest.fixture
async def gateway_api(broker: Broker) -> AsyncIterator[Api]:
    """Stubs calling as a gateway (the only role that may lease deliveries)."""
    async with connect(broker, GATEWAY_TOKEN) as client:
        yield client


@pytest.fixture
async def start_gateway(start_broker: StartBroker) -> AsyncIterator[StartGateway]:
    """Run real gateways in-process against a broker; each waits until it is attached.

    Depends on `start_broker` so that gateways stop before the brokers do.
    """
    running: list[tuple[asyncio.Event, asyncio.Task[None]]] = []

    async def start(
        broker: Broker,
        allowed_cidrs: str = "127.0.0.0/8",
        concurrency: int = 256,
        http_address: str = "127.0.0.1:0",
        clock: ManualClock | None = None,
    ) -> None:
        before = len(broker.hub.sessions)
        stop = asyncio.Event()
        config = GatewayConfig(
            broker_address=f"127.0.0.1:{broker.port}",
            http_address=http_address,
            allowed_cidrs=allowed_cidrs,
            concurrency=concurrency,
            gateway_id=f"test-gateway-{len(running)}",
            token=GATEWAY_TOKEN,
        )
        serving = serve_gateway(config, stop, clock.now) if clock else serve_gateway(config, stop)
        task = asyncio.create_task(serving)
        running.append((stop, task))
        await eventually(lambda: task.done() or len(broker.hub.sessions) > before)
        if task.done():
            task.result()  # surface the gateway's start-up error
            raise AssertionError("the gateway stopped before attaching to the broker")

    yield start
    for stop, _ in running:
        stop.set()
    for _, task in running:
        await asyncio.wait_for(task, 15)


@pytest.fixture
async def gateway(broker: Broker, start_gateway: StartGateway) -> None:
    """One gateway for `broker`, allowed to reach loopback receivers."""
    await start_gateway(broker)


@pytest.fixture
async def start_receiver() -> AsyncIterator[StartReceiver]:
    receivers: list[InLoopReceiver] = []

    async def start(handler: Handler) -> InLoopReceiver:
        receiver = await InLoopReceiver(handler).start()
        receivers.append(receiver)
        return receiver

    yield start
    for receiver in receivers:
        await receiver.stop()
