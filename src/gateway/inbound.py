"""`/in/{source_id}`: inbound webhooks from providers and connectors become events.

The order matters: refuse what is too large before reading it, learn the source from
the broker, answer the provider's setup challenge, authenticate the raw bytes, and only
then publish. The answer is 2xx only after the broker acknowledged the event, so a provider
whose request got 503 retries and nothing is lost. Refusals are logged and counted with
the source and the reason, and the sender learns nothing but the status.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

import grpc
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from prometheus_client import Counter

from gateway import WallTime
from gateway.broker_errors import Rpc, http_status
from gateway.providers.base import (
    InboundRequest,
    Provider,
    Refused,
    Reply,
    ResolvedSource,
    sanitize_type,
)
from hookwire.v1 import events_pb2 as epb
from hookwire.v1 import events_pb2_grpc as erpc
from hookwire.v1 import sources_pb2 as spb
from hookwire.v1 import sources_pb2_grpc as srpc

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY = 1024 * 1024
DEFAULT_BODY_TIMEOUT = 30.0
BROKER_TIMEOUT = 5.0
RETRY_AFTER = "5"
REQUESTS = Counter(
    "hookwire_inbound_requests", "Inbound webhook requests by outcome", ["provider", "outcome"]
)
REFUSALS = Counter(
    "hookwire_inbound_refusals", "Inbound requests refused as not genuine", ["provider", "reason"]
)


class _Answer(Exception):
    """Stops handling with this response (an early, final answer)."""

    def __init__(self, outcome: str, response: web.Response) -> None:
        super().__init__(outcome)
        self.outcome = outcome
        self.response = response


def _plain(status: int, text: str, **headers: str) -> web.Response:
    return web.Response(status=status, text=text, headers=headers)


@dataclass(frozen=True)
class InboundSettings:
    max_body: int = DEFAULT_MAX_BODY
    public_url: str = ""  # the base URL providers call, when a proxy rewrites it
    # A sender trickling its body would otherwise hold a connection and a handler for
    # as long as it likes (1,000 such clients all stayed connected for 40 s).
    body_timeout: float = DEFAULT_BODY_TIMEOUT


class InboundReceiver:
    """The aiohttp handler for `/in/{source_id}` and `/in/{source_id}/{credential}`."""

    def __init__(
        self,
        channel: grpc.aio.Channel,
        providers: Mapping[str, Provider],
        settings: InboundSettings,
        wall_time: WallTime = time.time,
    ) -> None:
        self._sources = srpc.SourceServiceStub(channel)
        self._events = erpc.EventServiceStub(channel)
        self._providers = providers
        self._settings = settings
        self._wall_time = wall_time

    async def handle(self, request: web.Request) -> web.StreamResponse:
        provider_name = "unknown"
        try:
            if (request.content_length or 0) > self._settings.max_body:
                raise _Answer("too_large", _too_large())
            source, provider = await self._resolve(request.match_info["source_id"])
            provider_name = provider.name
            if request.method not in provider.methods:
                allow = ", ".join(sorted(provider.methods))
                raise _Answer("wrong_method", _plain(405, "method not allowed", Allow=allow))
            inbound = InboundRequest(
                method=request.method,
                url=self._public_url(request),
                headers=request.headers,
                query=request.query,
                body=await self._read_body(request),
                path_secret=request.match_info.get("credential", ""),
            )
            response = await self._authenticate_and_publish(source, provider, inbound)
        except _Answer as answer:
            REQUESTS.labels(provider_name, answer.outcome).inc()
            return answer.response
        REQUESTS.labels(provider_name, "accepted").inc()
        return response

    def _public_url(self, request: web.Request) -> str:
        """The URL as the provider called it: the configured public base (the gateway may
        sit behind a proxy) or else the scheme and Host of the request itself."""
        base = self._settings.public_url.rstrip("/")
        return base + request.path_qs if base else str(request.url)

    async def _resolve(self, source_id: str) -> tuple[ResolvedSource, Provider]:
        try:
            found = await self._sources.ResolveSource(
                spb.ResolveSourceRequest(id=source_id), timeout=BROKER_TIMEOUT
            )
        except grpc.aio.AioRpcError as error:
            raise _refused(error, Rpc.RESOLVE_SOURCE, "resolving a source") from None
        if found.deleted:
            raise _Answer("gone", _plain(410, "this source was deleted"))
        provider = self._providers.get(found.source.provider)
        if provider is None:
            log.error(
                "inbound: source %s names unknown provider %r", source_id, found.source.provider
            )
            raise _Answer("unknown_provider", _plain(404, "no such source"))
        source = ResolvedSource(
            id=found.source.id,
            provider=found.source.provider,
            secrets=tuple(found.secrets),
            options=dict(found.source.options),
            ingest_url=found.source.ingest_url,
            event_type_prefix=found.source.event_type_prefix or found.source.provider,
        )
        return source, provider

    async def _read_body(self, request: web.Request) -> bytes:
        """The body, read up to the size and time limits; a body beyond either is refused
        without reading on, and a sender that went away is counted, not logged as an error
        (it is routine on the internet and the sender will never see an answer)."""
        limit = self._settings.max_body
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self._settings.body_timeout):
                while chunk := await request.content.read(64 * 1024):
                    size += len(chunk)
                    if size > limit:
                        raise _Answer("too_large", _too_large())
                    chunks.append(chunk)
        except TimeoutError:
            raise _Answer("too_slow", _too_slow()) from None
        except ConnectionError:
            source_id = request.match_info["source_id"]
            log.debug("inbound: the sender to %s went away while sending its body", source_id)
            raise _Answer("client_gone", _plain(400, "incomplete body")) from None
        except (HttpProcessingError, web.RequestPayloadError):
            # Done with this body: aiohttp would otherwise go on reading it after the answer
            # and log the same decoding error again, as an unhandled exception.
            request.content.feed_eof()
            response = _plain(400, "malformed body")
            response.force_close()
            raise _Answer("bad_body", response) from None
        return b"".join(chunks)

    async def _authenticate_and_publish(
        self, source: ResolvedSource, provider: Provider, inbound: InboundRequest
    ) -> web.Response:
        challenge_reply = provider.challenge(inbound, source)
        if challenge_reply is not None:
            return _reply(challenge_reply)
        try:
            accepted = provider.authenticate(inbound, source, self._wall_time())
        except Refused as refused:
            REFUSALS.labels(provider.name, refused.reason).inc()
            log.warning("inbound: refused a request to source %s: %s", source.id, refused.reason)
            raise _Answer("refused", _plain(401, "unauthorized")) from None
        if not accepted.publish:
            return _reply(accepted.reply or Reply())
        event_type = (
            f"{source.event_type_prefix}.{sanitize_type(accepted.event_type) or 'received'}"
        )
        event = await self._publish(source, inbound, event_type, accepted.delivery_id)
        if accepted.reply is not None:
            return _reply(accepted.reply)
        return web.json_response({"event_id": event.event.id, "duplicate": event.duplicate})

    async def _publish(
        self,
        source: ResolvedSource,
        inbound: InboundRequest,
        event_type: str,
        delivery_id: str,
    ) -> epb.PublishEventResponse:
        attributes = {"source.id": source.id, "source.provider": source.provider}
        if delivery_id:
            attributes["source.delivery_id"] = delivery_id[:512]
        request = epb.PublishEventRequest(
            type=event_type,
            data=inbound.body,
            content_type=inbound.content_type or "application/octet-stream",
            attributes=attributes,
            idempotency_key=f"{source.id}:{delivery_id}"[:255] if delivery_id else "",
        )
        try:
            return await self._events.PublishEvent(request, timeout=BROKER_TIMEOUT)
        except grpc.aio.AioRpcError as error:
            raise _refused(error, Rpc.PUBLISH_EVENT, f"publishing for {source.id}") from None


def _refused(error: grpc.aio.AioRpcError, rpc: Rpc, doing: str) -> _Answer:
    """The answer when the broker refused `rpc`; its status says whose fault it was."""
    status = http_status(error, rpc)
    if status == 404:
        return _Answer("unknown_source", _plain(404, "no such source"))
    if status == 413:
        return _Answer("too_large", _too_large())
    if status == 400:
        return _Answer("bad_request", _plain(400, error.details() or "bad request"))
    log.warning("inbound: broker unavailable %s: %s", doing, error.code().name)
    return _Answer("broker_unavailable", _unavailable())


def _too_large() -> web.Response:
    response = _plain(413, "request body too large")
    response.force_close()
    return response


def _too_slow() -> web.Response:
    response = _plain(408, "request body not received in time")
    response.force_close()
    return response


def _unavailable() -> web.Response:
    return _plain(503, "temporarily unavailable; retry later", **{"Retry-After": RETRY_AFTER})


def _reply(reply: Reply) -> web.Response:
    return web.Response(
        status=reply.status,
        body=reply.body,
        content_type=reply.content_type,
        headers=dict(reply.headers),
    )
