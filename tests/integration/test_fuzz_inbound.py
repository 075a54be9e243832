"""Random and malformed requests to the gateway's `/in/...` never get a 5xx and never store
an event; only the genuine requests mixed among them do. A real gateway and broker; the
requests come from a seeded generator (the seed is printed on failure), through aiohttp for
well-formed HTTP and a raw socket for what no client library would send.

`HOOKWIRE_FUZZ_EXAMPLES` (default 150) sets how many random requests to send.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import string
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from yarl import URL

from broker.clock import ManualClock
from hookwire.v1 import events_pb2 as epb
from hookwire.v1 import sources_pb2 as spb
from tests.integration.signers import Signer, all_signers
from tests.support.in_process import Api, StartBroker, StartGateway, connect
from tests.support.ports import LOOPBACK, free_port

EXAMPLES = int(os.environ.get("HOOKWIRE_FUZZ_EXAMPLES", "150"))
SEED = int(os.environ.get("HOOKWIRE_FUZZ_SEED", str(random.randrange(1 << 32))))
METHODS = ("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "PURGE", "X-Y")
HEADER_NAMES = (
    "Content-Type", "Content-Encoding", "X-Hub-Signature-256", "Stripe-Signature",
    "X-Slack-Signature", "X-Slack-Request-Timestamp", "webhook-id", "webhook-signature",
    "webhook-timestamp", "Authorization", "X-Random", "Expect", "Accept-Encoding",
)  # fmt: skip
# Requests no client library would send; `SRC` becomes a known source's id.
POST = b"POST /in/SRC HTTP/1.1\r\nHost: x\r\n"
MALFORMED = (
    POST + b"Content-Length: abc\r\n\r\n",
    POST + b"Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
    POST + b'Content-Length: 50\r\n\r\n{"truncated":',
    POST + b"Transfer-Encoding: chunked\r\n\r\nZZ\r\nab\r\n0\r\n\r\n",
    POST + b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
    b"GET /in/src_x HTTP/1.1\r\nHost: x\r\n X-Folded: yes\r\n\r\n",
    b"GET /in/\x00\x01 HTTP/1.1\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    b"GET /in/src_x HTTP/1.1\r\nHost: x\r\n" + b"X: " + b"a" * 20000 + b"\r\n\r\n",
    b"GET /in/src_x HTTP/1.1\r\n" + b"".join(b"H%d: v\r\n" % i for i in range(300)) + b"\r\n",
    POST + b"Content-Length: 99999999999999999999\r\n\r\n",
    POST + b"Content-Encoding: gzip\r\nContent-Length: 4\r\n\r\nabcd",
    b"GET http://evil.example/in/src_x HTTP/1.1\r\nHost: x\r\n\r\n",
    b"CONNECT 127.0.0.1:22 HTTP/1.1\r\n\r\n",
    b"\r\n\r\n\r\n",
)


@dataclass
class Target:
    api: Api
    base: str
    clock: ManualClock
    source_ids: list[str] = field(default_factory=list)
    signers: list[tuple[Signer, spb.Source]] = field(default_factory=list)


@pytest.fixture
async def target(
    start_broker: StartBroker, start_gateway: StartGateway, clock: ManualClock
) -> AsyncIterator[Target]:
    port = free_port()
    base = f"http://{LOOPBACK}:{port}"
    broker = await start_broker(public_url=base)
    await start_gateway(broker, http_address=f"{LOOPBACK}:{port}", clock=clock)
    async with connect(broker) as api:
        found = Target(api, base, clock)
        for signer in all_signers():
            created = await api.sources.CreateSource(
                spb.CreateSourceRequest(
                    source=spb.Source(
                        provider=signer.provider, secret=signer.secret, options=signer.options
                    )
                )
            )
            found.signers.append((signer, created.source))
            found.source_ids.append(created.source.id)
        yield found


def _text(rng: random.Random, limit: int = 40) -> str:
    alphabet = string.ascii_letters + string.digits + "-_.~%!$&'()*+,;=:@"
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(limit)))


def _path(rng: random.Random, target: Target) -> str:
    known = rng.choice(target.source_ids)
    choices = [
        f"/in/{known}",
        f"/in/{known}/{_text(rng)}",
        f"/in/src_{_text(rng, 30)}",
        f"/in/{_text(rng)}",
        f"/in/{known}/{_text(rng)}/{_text(rng)}",
        f"/in/{known}%2F..%2F..%2Fadmin",
        f"/in/{known}/%00%ff%c3%28",
    ]
    path = rng.choice(choices)
    if rng.random() < 0.3:
        path += "?" + "&".join(f"{_text(rng, 8)}={_text(rng)}" for _ in range(rng.randrange(4)))
    return path


def _body(rng: random.Random) -> bytes:
    kind = rng.randrange(4)
    if kind == 0:
        return b""
    if kind == 1:
        return rng.randbytes(rng.randrange(4096))
    if kind == 2:
        return b'{"type": "%s", "data": [%d]}' % (_text(rng).encode(), rng.randrange(10**9))
    return ("".join(rng.choice('{}[]":,\\ \u00e9\u2028') for _ in range(200))).encode()


async def _raw(base: str, payload: bytes) -> bytes:
    """Send `payload` as is; the first bytes of the answer, or empty if the gateway hung up
    or is still waiting for the rest of a body (as it should for a truncated one)."""
    url = URL(base)
    assert url.host is not None and url.port is not None
    reader, writer = await asyncio.open_connection(url.host, url.port)
    try:
        writer.write(payload)
        with contextlib.suppress(ConnectionError, TimeoutError):
            await writer.drain()
            return await asyncio.wait_for(reader.read(64), 0.5)
        return b""
    finally:
        writer.close()


async def _all_events(api: Api) -> list[epb.Event]:
    events: list[epb.Event] = []
    token = ""
    while True:
        page = await api.events.ListEvents(
            epb.ListEventsRequest(page_size=1000, page_token=token, type="*")
        )
        events.extend(page.events)
        token = page.next_page_token
        if not token:
            return events


async def test_random_inbound_requests_get_no_5xx_and_only_genuine_ones_are_stored(
    target: Target, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    rng = random.Random(SEED)
    genuine_bodies: set[bytes] = set()
    refused_genuine = 0
    statuses: list[int] = []
    async with aiohttp.ClientSession(auto_decompress=False) as session:
        for index in range(EXAMPLES):
            if index % 10 == 9:
                signer, source = rng.choice(target.signers)
                signed = signer.sign(signer.secret, source.ingest_url, int(target.clock.now()))
                async with session.request(
                    signed.method,
                    source.ingest_url,
                    params=dict(signed.query) or None,
                    headers=dict(signed.headers),
                    data=signed.body,
                ) as response:
                    await response.read()
                if 200 <= response.status < 300:
                    genuine_bodies.add(signed.body)
                else:
                    refused_genuine += 1
                statuses.append(response.status)
                continue
            if index % 7 == 6:
                known = rng.choice(target.source_ids).encode()
                answer = await _raw(target.base, rng.choice(MALFORMED).replace(b"SRC", known))
                assert answer == b"" or answer[9:10] == b"4", (SEED, answer)
                continue
            headers = {rng.choice(HEADER_NAMES): _text(rng) for _ in range(rng.randrange(6))}
            async with session.request(
                rng.choice(METHODS),
                URL(target.base + _path(rng, target), encoded=True),
                headers=headers,
                data=_body(rng),
            ) as response:
                await response.read()
            statuses.append(response.status)
            assert response.status < 500, (SEED, response.status)

        async with session.get(f"{target.base}/healthz") as health:
            assert health.status == 200
    assert refused_genuine == 0, SEED
    assert genuine_bodies, SEED
    assert [s for s in statuses if s >= 500] == [], SEED
    stored = await _all_events(target.api)
    assert {event.data for event in stored} == genuine_bodies, SEED
    assert len(stored) == len(genuine_bodies), SEED
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], SEED
