"""The gateway's HTTP edge against clients that misbehave on the wire: slow, silent,
vanishing mid-body, or sending request lines no HTTP parser accepts. Each runs a real
gateway (with short limits) and a real broker, and talks to the gateway on a raw socket."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from prometheus_client import REGISTRY

from broker.server import Broker
from gateway.main import GatewayConfig, serve_gateway
from hookwire.v1 import sources_pb2 as spb
from tests.support.in_process import GATEWAY_TOKEN, Api
from tests.support.ports import LOOPBACK, free_port
from tests.support.waiting import eventually

LIMIT = 0.5  # the idle and body timeouts of the gateway under test, in seconds
LINGER = 0.2
SECRET = "tok_Zq8VhW3nLp0sKxR2"  # looks like a connector token


@dataclass
class Edge:
    port: int
    source_id: str


@pytest.fixture
async def edge(broker: Broker, api: Api) -> AsyncIterator[Edge]:
    port = free_port()
    config = GatewayConfig(
        broker_address=f"127.0.0.1:{broker.port}",
        http_address=f"{LOOPBACK}:{port}",
        gateway_id="edge-gateway",
        token=GATEWAY_TOKEN,
        http_idle_timeout=LIMIT,
        inbound_body_timeout=LIMIT,
        http_lingering_time=LINGER,
    )
    before = len(broker.hub.sessions)
    stop = asyncio.Event()
    task = asyncio.create_task(serve_gateway(config, stop))
    await eventually(lambda: task.done() or len(broker.hub.sessions) > before)
    if task.done():
        task.result()
    created = await api.sources.CreateSource(
        spb.CreateSourceRequest(source=spb.Source(provider="github", secret="s3cr3t"))
    )
    yield Edge(port, created.source.id)
    stop.set()
    await asyncio.wait_for(task, 15)


async def _read_until_closed(reader: asyncio.StreamReader, within: float) -> bytes:
    received = b""
    async with asyncio.timeout(within):
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(4096):
                received += chunk
    return received


def _requests(outcome: str) -> float:
    value = REGISTRY.get_sample_value(
        "hookwire_inbound_requests_total", {"provider": "github", "outcome": outcome}
    )
    return value or 0.0


async def test_a_client_trickling_its_body_is_answered_408_and_closed_within_the_limit(
    edge: Edge,
) -> None:
    reader, writer = await asyncio.open_connection(LOOPBACK, edge.port)
    writer.write(
        f"POST /in/{edge.source_id} HTTP/1.1\r\nHost: x\r\nContent-Length: 10000\r\n\r\n".encode()
    )

    async def trickle() -> None:
        with contextlib.suppress(ConnectionError):
            while True:
                writer.write(b"x")
                await writer.drain()
                await asyncio.sleep(0.05)

    trickling = asyncio.create_task(trickle())
    started = time.monotonic()
    try:
        answer = await _read_until_closed(reader, within=LIMIT * 6)
    finally:
        trickling.cancel()
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
    assert time.monotonic() - started < LIMIT + LINGER + 1.5


async def test_a_client_that_never_finishes_its_headers_is_disconnected_after_the_idle_limit(
    edge: Edge,
) -> None:
    reader, writer = await asyncio.open_connection(LOOPBACK, edge.port)
    writer.write(f"POST /in/{edge.source_id} HTTP/1.1\r\nHost: x\r\n".encode())
    started = time.monotonic()
    try:
        await _read_until_closed(reader, within=LIMIT * 6)
    finally:
        writer.close()
    assert time.monotonic() - started < LIMIT + 1.5


async def test_a_client_gone_mid_body_is_one_counted_debug_line_and_no_traceback(
    edge: Edge, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    before = _requests("client_gone")
    _, writer = await asyncio.open_connection(LOOPBACK, edge.port)
    writer.write(
        f"POST /in/{edge.source_id} HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n".encode()
        + b"{" * 100
    )
    await writer.drain()
    await asyncio.sleep(0.1)
    writer.close()
    await eventually(lambda: _requests("client_gone") > before, what="client_gone counted")
    await asyncio.sleep(0.1)
    gateway_records = [r for r in caplog.records if r.name.startswith(("gateway", "aiohttp"))]
    assert [r for r in gateway_records if r.levelno >= logging.WARNING] == []
    assert [r for r in gateway_records if r.exc_info] == []
    assert "Traceback" not in caplog.text
    assert any("went away" in r.getMessage() for r in gateway_records)


MALFORMED = [
    f"POST /in/src_x/{SECRET} HTTP/1.1 trailing\r\nHost: x\r\n\r\n",
    f"GET /in/src_x?code={SECRET} HTTP/9.9\r\nHost: x\r\n\r\n",
    f"G\x01T /in/src_x/{SECRET} HTTP/1.1\r\nHost: x\r\n\r\n",
    f"GET /in/src_x/{SECRET}\r\n\r\n",
    f"GET /in/src_x/{SECRET} HTTP/1.1\r\nHost: x\r\nBad Header: 1\r\n\r\n",
    f"GET /in/src_x/{SECRET}\x00 HTTP/1.1\r\nHost: x\r\n\r\n",
    f"GET /in/src_x/{SECRET}{'A' * 9000} HTTP/1.1\r\nHost: x\r\n\r\n",
    f"POST /in/src_x/{SECRET} HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
    f"POST /in/src_x?code={SECRET} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
]


async def test_malformed_request_lines_never_put_their_target_in_any_log(
    edge: Edge, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for raw in MALFORMED:
        reader, writer = await asyncio.open_connection(LOOPBACK, edge.port)
        writer.write(raw.encode("latin-1"))
        try:
            answer = await _read_until_closed(reader, within=LIMIT * 6)
        finally:
            writer.close()
        assert answer[:5] == b"HTTP/" and answer[9:10] == b"4", (raw[:40], answer[:80])
    formatter = logging.Formatter()
    logged = "\n".join(formatter.format(record) for record in caplog.records)
    assert SECRET not in logged
    assert "refused a malformed request" in logged


def test_the_gateway_reads_its_time_limits_from_the_environment_and_refuses_zero() -> None:
    env = {"HOOKWIRE_HTTP_IDLE_TIMEOUT": "5s", "HOOKWIRE_INBOUND_BODY_TIMEOUT": "500ms"}
    config = GatewayConfig.from_env(env)
    assert (config.http_idle_timeout, config.inbound_body_timeout) == (5.0, 0.5)
    with pytest.raises(ValueError, match="HOOKWIRE_INBOUND_BODY_TIMEOUT"):
        GatewayConfig.from_env({"HOOKWIRE_INBOUND_BODY_TIMEOUT": "0"})
