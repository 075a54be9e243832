"""Inbound webhooks end to end: a request signed by each provider's documented algorithm
reaches the real gateway's `/in/{source}`, becomes an event through the real broker, and
is delivered to a subscriber of `{prefix}.*`; forgeries, replays and bad requests are not."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from broker.clock import ManualClock
from broker.server import Broker
from hookwire.v1 import events_pb2 as epb
from hookwire.v1 import sources_pb2 as pb
from tests.integration.signers import SignedRequest, Signer, all_signers
from tests.support.in_process import Api, StartBroker, StartGateway, connect
from tests.support.ports import free_port
from tests.support.receivers import InLoopReceiver, StartReceiver, answer_status
from tests.support.waiting import eventually

SIGNERS = all_signers()


@dataclass
class Inbound:
    api: Api
    broker: Broker
    base: str
    subscriber: InLoopReceiver
    clock: ManualClock

    async def source(self, **fields: Any) -> pb.Source:
        answer = await self.api.sources.CreateSource(
            pb.CreateSourceRequest(source=pb.Source(**fields))
        )
        prefix = answer.source.event_type_prefix
        await self.api.create_subscription(url=self.subscriber.url, event_types=[f"{prefix}.*"])
        return answer.source

    async def events(self, prefix: str) -> list[epb.Event]:
        page = await self.api.events.ListEvents(epb.ListEventsRequest(type=f"{prefix}.*"))
        return list(page.events)


async def send(url: str, request: SignedRequest, body: bytes | None = None) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            request.method,
            url,
            params=dict(request.query) or None,
            headers=dict(request.headers),
            data=request.body if body is None else body,
        ) as response,
    ):
        return response.status, await response.read()


@pytest.fixture
async def inbound(
    start_broker: StartBroker,
    start_gateway: StartGateway,
    start_receiver: StartReceiver,
    clock: ManualClock,
) -> AsyncIterator[Inbound]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    broker = await start_broker(public_url=base)
    await start_gateway(broker, http_address=f"127.0.0.1:{port}", clock=clock)
    subscriber = await start_receiver(answer_status(200))
    async with connect(broker) as api:
        yield Inbound(api, broker, base, subscriber, clock)


def webhook_types(receiver: InLoopReceiver) -> list[str]:
    return [json.loads(hit.body)["type"] for hit in receiver.hits]


@pytest.mark.parametrize("signer", SIGNERS, ids=[s.provider for s in SIGNERS])
async def test_a_genuine_request_is_published_and_delivered_once(
    inbound: Inbound, signer: Signer
) -> None:
    source = await inbound.source(
        provider=signer.provider, secret=signer.secret, options=signer.options
    )
    request = signer.sign(signer.secret, source.ingest_url, int(inbound.clock.now()))
    status, _ = await send(source.ingest_url, request)
    assert 200 <= status < 300
    expected_type = f"{source.event_type_prefix}.{signer.event_type}"
    [event] = await inbound.events(source.event_type_prefix)
    assert event.type == expected_type
    assert event.data == request.body
    assert event.attributes["source.id"] == source.id
    assert event.attributes["source.provider"] == signer.provider
    await eventually(lambda: webhook_types(inbound.subscriber) == [expected_type])

    # The provider retries the same delivery: acknowledged, not published twice.
    status, _ = await send(source.ingest_url, request)
    assert 200 <= status < 300
    expected = 1 if signer.has_delivery_id else 2
    assert len(await inbound.events(source.event_type_prefix)) == expected


@pytest.mark.parametrize("signer", SIGNERS, ids=[s.provider for s in SIGNERS])
async def test_forged_requests_get_401_and_publish_nothing(
    inbound: Inbound, signer: Signer
) -> None:
    source = await inbound.source(
        provider=signer.provider, secret=signer.secret, options=signer.options
    )
    now = int(inbound.clock.now())
    if signer.signs_body:
        genuine = signer.sign(signer.secret, source.ingest_url, now)
        status, answer = await send(source.ingest_url, genuine, body=genuine.body + b" ")
        assert (status, answer) == (401, b"unauthorized")
    forged = signer.sign(signer.secret[::-1], source.ingest_url, now)
    status, answer = await send(source.ingest_url, forged)
    assert (status, answer) == (401, b"unauthorized")
    assert await inbound.events(source.event_type_prefix) == []
    async with aiohttp.ClientSession() as session, session.get(f"{inbound.base}/metrics") as m:
        metrics = await m.text()
    assert f'hookwire_inbound_refusals_total{{provider="{signer.provider}"' in metrics


async def test_a_rotated_source_accepts_both_secrets_during_the_overlap(inbound: Inbound) -> None:
    [signer] = [s for s in SIGNERS if s.provider == "github"]
    source = await inbound.source(provider="github", secret="old-secret")
    await inbound.api.sources.RotateSourceSecret(
        pb.RotateSourceSecretRequest(id=source.id, secret="new-secret")
    )
    now = int(inbound.clock.now())
    for secret in ("old-secret", "new-secret"):
        status, _ = await send(source.ingest_url, signer.sign(secret, source.ingest_url, now))
        assert status == 200
    inbound.clock.advance(86400 + 1)
    status, _ = await send(source.ingest_url, signer.sign("old-secret", source.ingest_url, now))
    assert status == 401


MESSAGE_CARD = {
    "@type": "MessageCard",
    "@context": "https://schema.org/extensions",
    "summary": "Build failed",
    "sections": [{"activityTitle": "main is red"}],
}
ADAPTIVE_MESSAGE = {
    "type": "message",
    "attachments": [
        {
            "contentType": "application/vnd.microsoft.card.adaptive",
            "content": {"type": "AdaptiveCard", "version": "1.4", "body": []},
        }
    ],
}


async def post_json(url: str, payload: object) -> tuple[int, bytes]:
    raw = json.dumps(payload).encode()
    return await send(url, SignedRequest({"Content-Type": "application/json"}, raw))


async def test_a_connector_card_becomes_an_event_until_the_source_is_deleted(
    inbound: Inbound,
) -> None:
    source = await inbound.source(provider="connector", event_type_prefix="teams.alerts")
    assert await post_json(source.ingest_url, MESSAGE_CARD) == (200, b"1")
    assert await post_json(source.ingest_url, ADAPTIVE_MESSAGE) == (200, b"1")
    events = await inbound.events("teams.alerts")
    assert [e.type for e in events] == ["teams.alerts.message"] * 2
    assert json.loads(events[0].data) == MESSAGE_CARD
    await eventually(lambda: len(inbound.subscriber.hits) == 2)

    await inbound.api.sources.DeleteSource(pb.DeleteSourceRequest(id=source.id))
    status, _ = await post_json(source.ingest_url, MESSAGE_CARD)
    assert status == 410
    assert len(await inbound.events("teams.alerts")) == 2


async def test_a_connector_refuses_wrong_credentials_and_malformed_cards(
    inbound: Inbound,
) -> None:
    source = await inbound.source(provider="connector")
    base, _, token = source.ingest_url.rpartition("/")
    assert (await post_json(f"{base}/{token[:-1]}x", MESSAGE_CARD))[0] == 401
    assert (await post_json(base, MESSAGE_CARD))[0] == 401
    status, answer = await post_json(source.ingest_url, {"@type": "MessageCard"})
    assert (status, answer) == (400, b"a MessageCard needs a summary or text")
    status, _ = await post_json(source.ingest_url, {"type": "message", "attachments": []})
    assert status == 400
    assert await inbound.events("connector") == []


async def test_unknown_sources_wrong_methods_and_oversized_bodies(inbound: Inbound) -> None:
    assert (await post_json(f"{inbound.base}/in/src_unknown", MESSAGE_CARD))[0] == 404
    source = await inbound.source(provider="github", secret="s")
    status, _ = await send(source.ingest_url, SignedRequest({}, b"", method="GET"))
    assert status == 405
    big = io.BytesIO(b"{" + b" " * (1024 * 1024) + b"}")  # aiohttp warns on raw bytes > 1 MiB
    async with (
        aiohttp.ClientSession() as session,
        session.post(source.ingest_url, data=big, headers={"X-GitHub-Event": "push"}) as response,
    ):
        assert response.status == 413

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b" " * 65536

    async with (
        aiohttp.ClientSession() as session,
        session.post(source.ingest_url, data=chunks()) as response,
    ):
        assert response.status == 413
    assert await inbound.events("github") == []


async def test_an_event_over_the_brokers_limit_gets_413_and_publishes_nothing(
    inbound: Inbound,
) -> None:
    source = await inbound.source(provider="github", secret="s3cret")
    body = json.dumps({"padding": "x" * (300 * 1024)}).encode()  # broker 256 KiB < gateway 1 MiB
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-Hub-Signature-256": "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest(),
    }
    status, answer = await send(source.ingest_url, SignedRequest(headers, body))
    assert (status, answer) == (413, b"request body too large")
    assert await inbound.events("github") == []


async def test_while_the_broker_is_down_requests_get_503_and_nothing_is_lost(
    start_broker: StartBroker, start_gateway: StartGateway, clock: ManualClock
) -> None:
    gateway_port, broker_port = free_port(), free_port()
    settings = {
        "db_name": "kept.db",
        "public_url": f"http://127.0.0.1:{gateway_port}",
        "grpc_address": f"127.0.0.1:{broker_port}",
    }
    broker = await start_broker(**settings)
    await start_gateway(broker, http_address=f"127.0.0.1:{gateway_port}", clock=clock)
    async with connect(broker) as api:
        source = (
            await api.sources.CreateSource(
                pb.CreateSourceRequest(source=pb.Source(provider="github", secret="s3cret"))
            )
        ).source
    [signer] = [s for s in SIGNERS if s.provider == "github"]
    request = signer.sign("s3cret", source.ingest_url, int(clock.now()))
    await broker.stop(grace=1.0)
    broker.port = 0
    status, _ = await send(source.ingest_url, request)
    assert status == 503

    restarted = await start_broker(**settings)

    async def provider_retry_accepted() -> bool:
        status, _ = await send(source.ingest_url, request)
        return status == 200

    await eventually(provider_retry_accepted, within=20.0, interval=0.2)
    await send(source.ingest_url, request)  # one retry too many is still one event
    async with connect(restarted) as api:
        page = await api.events.ListEvents(epb.ListEventsRequest(type="github.*"))
    assert [e.data for e in page.events] == [request.body]


async def test_a_genuine_but_malformed_body_gets_400_and_publishes_nothing(
    inbound: Inbound,
) -> None:
    source = await inbound.source(provider="github", secret="It's a Secret to Everybody")
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "push",
        "X-GitHub-Delivery": "d-1",
        # GitHub's published vector: this secret over `Hello, World!`.
        "X-Hub-Signature-256": "sha256="
        "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
    }
    status, answer = await send(source.ingest_url, SignedRequest(headers, b"Hello, World!"))
    assert status == 400
    assert b"data" in answer
    assert await inbound.events("github") == []
    headers["Content-Type"] = "text/plain"
    status, _ = await send(source.ingest_url, SignedRequest(headers, b"Hello, World!"))
    assert status == 200
    [event] = await inbound.events("github")
    assert (event.type, event.data, event.content_type) == (
        "github.push",
        b"Hello, World!",
        "text/plain",
    )
