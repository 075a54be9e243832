"""Webhook receivers on 127.0.0.1: where the gateways under test deliver.

* `InLoopReceiver` (in-process tests) is an aiohttp server in the test's own event loop: it
  records every request as a `Hit` and answers through a `Handler` the test gives it
  (`answer_status`, `echo_token`, or the test's own function, sync or async).
* `ThreadedReceiver` (process tests) is a threaded HTTP server, so that blocking tests can
  drive it: it answers the verification handshakes (ECHO_TOKEN `POST ?validationToken=`,
  WebSub `GET ?hub.challenge=`, CloudEvents `OPTIONS`; correctly by default, or as scripted
  per path, including never), verifies the Standard Webhooks signature of every webhook
  with the subscription secret registered for its path, records what it saw, answers
  scripted status codes per path, holds requests open (never answering them) until
  released, and can be stopped and started again on the same port.
"""

from __future__ import annotations

import inspect
import json
import threading
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp import web

from gateway.signing import SignatureError, verify
from tests.support.ports import LOOPBACK, free_port


def _url(port: int, path: str) -> str:
    return f"http://{LOOPBACK}:{port}{path}"


def _lowered(headers: Iterable[tuple[str, str]]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers}


# -- in the test's event loop -----------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One HTTP request an InLoopReceiver got."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes


Handler = Callable[[Hit], Awaitable[web.StreamResponse] | web.StreamResponse]


class InLoopReceiver:
    """An aiohttp server on 127.0.0.1:0 that records every request and answers via `handler`."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.hits: list[Hit] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return _url(self.port, "/hooks")

    async def start(self) -> InLoopReceiver:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, LOOPBACK, 0)
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
            headers=_lowered(request.headers.items()),
            body=await request.read(),
        )
        self.hits.append(hit)
        answer = self.handler(hit)
        if inspect.isawaitable(answer):
            answer = await answer
        return answer


StartReceiver = Callable[[Handler], Awaitable[InLoopReceiver]]


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


# -- on threads, for tests that drive processes ----------------------------------------------


class _Server(ThreadingHTTPServer):
    # A gateway opens many connections at once; the default backlog of 5 would drop SYNs
    # and leave requests waiting seconds for a TCP retransmit.
    request_queue_size = 256
    daemon_threads = True


@dataclass
class Received:
    """One webhook request as a ThreadedReceiver saw it."""

    path: str
    headers: dict[str, str]  # lower-cased names
    body: bytes
    webhook_id: str
    signature_valid: bool
    signature_error: str
    held: bool = False
    status: int | None = None  # what was answered; None while held (or never answered)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def signatures(self) -> list[str]:
        """The entries of `webhook-signature` (one per signing secret), in order."""
        return self.headers.get("webhook-signature", "").split()


@dataclass
class Handshake:
    """One verification request (any method) as a ThreadedReceiver saw it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    status: int | None = None  # what was answered; None while held (or never answered)


@dataclass(frozen=True)
class HandshakeAnswer:
    """How to answer a handshake; `hold` never answers it (until released at teardown)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    hold: bool = False


def proper_handshake(request: Handshake) -> HandshakeAnswer:
    """What a willing endpoint answers: the token, the challenge, or the origin allowed."""
    if request.method == "POST" and "validationToken" in request.query:
        return HandshakeAnswer(body=request.query["validationToken"].encode())
    if request.method == "GET" and request.query.get("hub.mode") == "subscribe":
        return HandshakeAnswer(body=request.query.get("hub.challenge", "").encode())
    if request.method == "OPTIONS" and "webhook-request-origin" in request.headers:
        return HandshakeAnswer(headers={"WebHook-Allowed-Origin": "*"})
    return HandshakeAnswer(status=400, body=b"not a handshake I know")


HandshakeScript = Callable[[Handshake], HandshakeAnswer]


@dataclass
class _PathScript:
    statuses: list[int] = field(default_factory=list)  # consumed in order; then 200
    hold: int = 0  # how many of the next requests to hold open
    handshake: HandshakeScript = proper_handshake


class ThreadedReceiver:
    """A webhook endpoint on 127.0.0.1 that can be stopped and started again on its port."""

    def __init__(self) -> None:
        self.port = free_port()
        self.secrets: dict[str, str] = {}
        self.handshakes: list[tuple[str, str]] = []  # (path, token) of ECHO_TOKEN handshakes
        self.verifications: list[Handshake] = []  # every handshake, whatever its mode
        self._requests: list[Received] = []
        self._scripts: dict[str, _PathScript] = {}
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # configuration
    def url(self, path: str) -> str:
        return _url(self.port, path)

    def script(self, path: str, statuses: list[int]) -> None:
        with self._lock:
            self._scripts.setdefault(path, _PathScript()).statuses = list(statuses)

    def hold(self, path: str, count: int = 1) -> None:
        with self._lock:
            self._scripts.setdefault(path, _PathScript()).hold = count

    def answer_handshakes(self, path: str, script: HandshakeScript) -> None:
        """Answer the handshakes made to `path` with `script` (default: proper_handshake)."""
        with self._lock:
            self._scripts.setdefault(path, _PathScript()).handshake = script

    def release_all(self) -> None:
        self._release.set()

    # observations
    def requests(self, path: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self._requests if path is None or r.path == path]

    def answered(self, path: str, status: int | None = None) -> list[Received]:
        return [
            r
            for r in self.requests(path)
            if r.status is not None and (status is None or r.status == status)
        ]

    # life cycle
    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> None:
        assert self._server is None, "receiver already running"
        server = _Server((LOOPBACK, self.port), _handler_for(self))
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(5)

    # request handling (runs on the server's threads)
    def _handle_webhook(self, path: str, headers: dict[str, str], body: bytes) -> Received:
        secret = self.secrets.get(path)
        error = ""
        if secret is None:
            error = f"no secret registered for {path}"
        else:
            try:
                verify([secret], headers, body, now=int(time.time()))
            except (SignatureError, ValueError) as exc:
                error = str(exc)
        lowered = _lowered(headers.items())
        record = Received(
            path=path,
            headers=lowered,
            body=body,
            webhook_id=lowered.get("webhook-id", ""),
            signature_valid=not error,
            signature_error=error,
        )
        with self._lock:
            script = self._scripts.setdefault(path, _PathScript())
            if script.hold > 0:
                script.hold -= 1
                record.held = True
            self._requests.append(record)
        return record

    def _handle_handshake(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str]
    ) -> tuple[Handshake, HandshakeAnswer]:
        record = Handshake(method, path, query, _lowered(headers.items()))
        with self._lock:
            script = self._scripts.setdefault(path, _PathScript()).handshake
            self.verifications.append(record)
            if method == "POST" and "validationToken" in query:
                self.handshakes.append((path, query["validationToken"]))
        answer = script(record)
        if not answer.hold:
            record.status = answer.status  # recorded before the gateway can see the answer
        return record, answer

    def _status_for(self, path: str) -> int:
        with self._lock:
            script = self._scripts.setdefault(path, _PathScript())
            return script.statuses.pop(0) if script.statuses else 200


def _handler_for(receiver: ThreadedReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # one request per connection: nothing lingers

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _handshake(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            _, answer = receiver._handle_handshake(
                self.command, parts.path, query, dict(self.headers.items())
            )
            if answer.hold:
                receiver._release.wait(60)  # never answered while the test runs
                return
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            self.wfile.write(answer.body)

        def do_GET(self) -> None:  # WebSub intent verification
            self._handshake()

        def do_OPTIONS(self) -> None:  # CloudEvents abuse protection
            self._handshake()

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if "validationToken" in parse_qs(parts.query):  # ECHO_TOKEN
                self._handshake()
                return
            record = receiver._handle_webhook(parts.path, dict(self.headers.items()), body)
            if record.held:
                # Never answered while the test runs; released (and dropped) at teardown.
                receiver._release.wait(60)
                return
            status = receiver._status_for(parts.path)
            record.status = status  # recorded before the gateway can see the answer
            self._answer(status, b"ok" if status < 300 else b"nope")

    return Handler
