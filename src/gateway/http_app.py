"""The gateway's HTTP listener: health, metrics, inbound webhooks (`/in/...`, see
`inbound.py`), and THIN notifications' fetch-back.

`GET /events/{id}` with the notification's token (`?access_token=` or
`Authorization: Bearer`) returns the event's data as published. The broker checks the
token; the gateway only relays, so it still holds no state.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import grpc
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.broker_errors import Rpc, http_status
from gateway.envelope import JSON, media_type
from hookwire.v1 import events_pb2 as epb

if TYPE_CHECKING:
    from gateway.inbound import InboundReceiver
    from hookwire.v1.events_pb2_grpc import EventServiceAsyncStub


class _MalformedRequestFilter(logging.Filter):
    """Rewrites aiohttp's report of a request it could not parse into one DEBUG line.

    aiohttp logs the parser's exception with a traceback, and the exception quotes the raw
    request line: a connector's `/in/{source_id}/{credential}` or a provider's `?code=`
    would land in the log whenever a client mangles the rest of the line. Malformed
    requests are routine internet noise, so they stay at DEBUG.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, HttpProcessingError):
            record.msg = "refused a malformed request (%s %s)"
            record.args = (error.code, type(error).__name__)
            record.exc_info = None
            record.exc_text = None
            record.levelno = logging.DEBUG
            record.levelname = logging.getLevelName(logging.DEBUG)
        return True


# The logger the gateway's HTTP server reports through, instead of aiohttp's own.
SERVER_LOG = logging.getLogger("gateway.http")
SERVER_LOG.addFilter(_MalformedRequestFilter())

NO_STORE = {"Cache-Control": "no-store"}
BROKER_TIMEOUT = 5.0
EVENTS_KEY: web.AppKey[EventServiceAsyncStub] = web.AppKey("events")
_REFUSED = {401: "access token refused", 404: "no such event", 503: "broker unavailable"}


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _metrics(request: web.Request) -> web.Response:
    return web.Response(body=generate_latest(), headers={"Content-Type": CONTENT_TYPE_LATEST})


def _token(request: web.Request) -> str:
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.query.get("access_token", "")


async def _fetch_event(request: web.Request) -> web.Response:
    token = _token(request)
    if not token:
        return web.Response(status=401, text="missing access token", headers=NO_STORE)
    stub = request.app[EVENTS_KEY]
    try:
        answer = await stub.GetEvent(
            epb.GetEventRequest(id=request.match_info["event_id"], access_token=token),
            timeout=BROKER_TIMEOUT,
        )
    except grpc.aio.AioRpcError as error:
        status = http_status(error, Rpc.GET_EVENT)
        return web.Response(status=status, text=_REFUSED[status], headers=NO_STORE)
    event = answer.event
    return web.Response(
        body=event.data,
        content_type=media_type(event.content_type) or JSON,
        headers={**NO_STORE, "webhook-id": event.id},
    )


def build_app(events: EventServiceAsyncStub, inbound: InboundReceiver) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app[EVENTS_KEY] = events
    app.router.add_get("/healthz", _health)
    app.router.add_get("/metrics", _metrics)
    app.router.add_get("/events/{event_id}", _fetch_event)
    app.router.add_route("*", "/in/{source_id}", inbound.handle)
    app.router.add_route("*", "/in/{source_id}/{credential}", inbound.handle)
    return app
