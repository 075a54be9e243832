"""End-to-end harness: `hookwire serve` as a real process group, and a real webhook receiver.

* `receiver` is a threaded HTTP server on 127.0.0.1 that answers the verification
  handshakes (ECHO_TOKEN `POST ?validationToken=`, WebSub `GET ?hub.challenge=`, CloudEvents
  `OPTIONS`; correctly by default, or as scripted per path, including never), verifies the
  Standard Webhooks signature of every webhook with the subscription secret registered for
  its path, records what it saw, answers scripted status codes per path, and can hold
  requests open (never answering them) until released.
* `Hookwire` starts `python -m hookwire.cli serve` in its own session
  (process group), waits for the `broker listening` line and gRPC health SERVING, and
  offers gRPC helpers plus a gateway readiness probe (a webhook gone end to end).
* `TestClock` drives a broker's `HOOKWIRE_CLOCK_FILE` (broker.clock.FileClock): the
  broker's "now" is whatever the test last wrote, and moves only when the test moves it.

The fixtures that wire these together (and always clean up) live in conftest.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.signing import SignatureError, verify
from hookwire.v1 import deliveries_pb2 as dpb
from hookwire.v1 import deliveries_pb2_grpc as drpc
from hookwire.v1 import events_pb2 as epb
from hookwire.v1 import events_pb2_grpc as erpc
from hookwire.v1 import subscriptions_pb2 as spb
from hookwire.v1 import subscriptions_pb2_grpc as srpc

STARTUP_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0
RPC_TIMEOUT = 10.0
LISTENING = re.compile(r"hookwire: broker listening on (\S+)")
PROBE_PATH = "/e2e-probe"
PROBE_TYPE = "e2e.probe"


# -- waiting ------------------------------------------------------------------------------


def eventually(
    predicate: Callable[[], Any], timeout: float = 15.0, interval: float = 0.05, what: str = ""
) -> Any:
    """Poll `predicate` until it returns something truthy (returned) or the deadline passes.

    The predicate may also raise AssertionError to say "not yet"; the last such error (or the
    last falsy value) is reported when the deadline passes.
    """
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = predicate()
        except AssertionError as exc:
            last = exc
        else:
            if value:
                return value
            last = value
        if time.monotonic() >= deadline:
            raise AssertionError(
                f"not true within {timeout:g}s: {what or predicate!r}; last: {last!r}"
            )
        time.sleep(interval)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- the webhook receiver ---------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    # A gateway opens many connections at once; the default backlog of 5 would drop SYNs
    # and leave requests waiting seconds for a TCP retransmit.
    request_queue_size = 256
    daemon_threads = True


@dataclass
class Received:
    """One webhook request as the receiver saw it."""

    path: str
    headers: dict[str, str]
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
    """One verification request (any method) as the receiver saw it."""

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


class Receiver:
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
        return f"http://127.0.0.1:{self.port}{path}"

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
        server = _Server(("127.0.0.1", self.port), _handler_for(self))
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
        lowered = {k.lower(): v for k, v in headers.items()}
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
        record = Handshake(method, path, query, {k.lower(): v for k, v in headers.items()})
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


def _handler_for(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
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


# -- the hookwire process -------------------------------------------------------------------


def _child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKWIRE_")}
    env.update(HOOKWIRE_ALLOWED_CIDRS="127.0.0.0/8", PYTHONUNBUFFERED="1")
    env.update(extra or {})
    return env


class TestClock:
    """The time a broker started with `HOOKWIRE_CLOCK_FILE=<path>` sees (FileClock).

    Starts at the real time (so webhook timestamps, which gateways take from the real
    clock, stay close to event times) and stands still until the test moves it. Every
    write is atomic (a temporary file renamed over the clock file).
    """

    __test__ = False  # not a pytest test class

    def __init__(self, path: Path, start: float | None = None) -> None:
        self.path = path
        self._now = 0.0
        self.set(time.time() if start is None else start)

    @property
    def env(self) -> dict[str, str]:
        return {"HOOKWIRE_CLOCK_FILE": str(self.path)}

    def now(self) -> float:
        return self._now

    def set(self, instant: float) -> None:
        scratch = self.path.with_name(self.path.name + ".tmp")
        scratch.write_text(repr(instant))
        os.replace(scratch, self.path)
        self._now = instant

    def advance(self, seconds: float) -> None:
        self.set(self._now + seconds)


def children_of(pid: int) -> list[int]:
    """Direct child pids of `pid` (Linux /proc)."""
    found: list[int] = []
    for path in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found.extend(int(p) for p in path.read_text().split())
    return sorted(set(found))


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Hookwire:
    """One `hookwire serve` process group and gRPC clients for it."""

    def __init__(
        self,
        workdir: Path,
        database: Path,
        args: list[str],
        name: str,
        grpc_port: int | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.env = dict(env or {})  # extra HOOKWIRE_* settings for the process group
        self.database = database
        self.args = args
        self.name = name
        self.grpc_port = grpc_port or free_port()
        self.http_port = free_port()
        self.address = f"127.0.0.1:{self.grpc_port}"
        self.stderr_path = workdir / f"{name}.stderr.log"
        self.proc: subprocess.Popen[str] | None = None
        self._stdout: list[str] = []
        self._listening = threading.Event()
        self._reader: threading.Thread | None = None
        self.channel: grpc.Channel | None = None
        self.events: erpc.EventServiceStub
        self.subscriptions: srpc.SubscriptionServiceStub
        self.deliveries: drpc.DeliveryServiceStub

    # life cycle
    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "hookwire.cli", "serve",
            "--database-url", f"sqlite:///{self.database}",
            "--grpc-address", self.address,
            "--http-address", f"127.0.0.1:{self.http_port}",
            *self.args,
        ]  # fmt: skip

    def start(self) -> None:
        """Spawn, then wait for the `broker listening` line and health SERVING."""
        self.spawn()
        assert self.proc is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while not self._listening.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(
                    f"{self.name}: no 'broker listening' line (exit {self.proc.returncode})\n"
                    f"stdout: {self.stdout}\nstderr: {self.stderr()[-3000:]}"
                )
        self.channel = grpc.insecure_channel(self.address)
        self.events = erpc.EventServiceStub(self.channel)
        self.subscriptions = srpc.SubscriptionServiceStub(self.channel)
        self.deliveries = drpc.DeliveryServiceStub(self.channel)
        health = health_pb2_grpc.HealthStub(self.channel)

        def serving() -> bool:
            try:
                answer = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
            except grpc.RpcError:
                return False
            return answer.status == health_pb2.HealthCheckResponse.SERVING

        eventually(serving, timeout=max(deadline - time.monotonic(), 1.0), what="health SERVING")

    def spawn(self) -> None:
        """Start `hookwire serve` in a new session (its own process group); do not wait."""
        with self.stderr_path.open("w") as stderr:
            self.proc = subprocess.Popen(
                self.command(),
                stdout=subprocess.PIPE,
                stderr=stderr,
                stdin=subprocess.DEVNULL,
                text=True,
                cwd=self.workdir,
                env=_child_env(self.env),
                start_new_session=True,
            )
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()

    def _read_stdout(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self._stdout.append(line)
            if LISTENING.search(line):
                self._listening.set()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    @property
    def stdout(self) -> str:
        return "".join(self._stdout)

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def gateway_pids(self) -> list[int]:
        return children_of(self.pid)

    def wait_stdout_closed(self, timeout: float) -> None:
        if self._reader is not None:
            self._reader.join(timeout)

    def _close_channel(self) -> None:
        if self.channel is not None:
            self.channel.close()
            self.channel = None

    def kill_group(self) -> None:
        """SIGKILL the whole process group (broker and gateways) and reap the broker."""
        assert self.proc is not None
        self._close_channel()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.proc.wait(STOP_TIMEOUT)
        eventually(lambda: not group_alive(self.pid), timeout=STOP_TIMEOUT, what="group gone")

    def cleanup(self) -> None:
        """SIGTERM the group, wait, SIGKILL on timeout."""
        self._close_channel()
        if self.proc is None:
            return
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(STOP_TIMEOUT)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)
        if self.proc.stdout is not None:
            self.wait_stdout_closed(5)
            self.proc.stdout.close()

    # client helpers
    def create_subscription(
        self,
        url: str,
        event_types: list[str],
        *,
        timeout: float = 15.0,
        **fields: Any,
    ) -> spb.Subscription:
        """CreateSubscription, retried while no gateway is connected yet (UNAVAILABLE)."""
        request = spb.CreateSubscriptionRequest(
            subscription=spb.Subscription(url=url, event_types=event_types, **fields)
        )
        created: list[spb.Subscription] = []

        def attempt() -> bool:
            try:
                answer = self.subscriptions.CreateSubscription(request, timeout=RPC_TIMEOUT)
            except grpc.RpcError as exc:
                if exc.code() == grpc.StatusCode.UNAVAILABLE:  # type: ignore[attr-defined]
                    raise AssertionError(f"UNAVAILABLE: {exc.details()}") from None  # type: ignore[attr-defined]
                raise
            created.append(answer.subscription)
            return True

        eventually(attempt, timeout=timeout, interval=0.1, what=f"create subscription {url}")
        return created[0]

    def publish(self, event_type: str, data: Any, **fields: Any) -> epb.Event:
        raw = data if isinstance(data, bytes) else json.dumps(data).encode()
        answer = self.events.PublishEvent(
            epb.PublishEventRequest(type=event_type, data=raw, **fields), timeout=RPC_TIMEOUT
        )
        assert answer.event.id, answer
        return answer.event

    def get_subscription(self, subscription_id: str) -> spb.Subscription:
        return self.subscriptions.GetSubscription(
            spb.GetSubscriptionRequest(id=subscription_id), timeout=RPC_TIMEOUT
        ).subscription

    def list_subscriptions(self) -> list[spb.Subscription]:
        found: list[spb.Subscription] = []
        token = ""
        while True:
            page = self.subscriptions.ListSubscriptions(
                spb.ListSubscriptionsRequest(page_size=1000, page_token=token),
                timeout=RPC_TIMEOUT,
            )
            found.extend(page.subscriptions)
            token = page.next_page_token
            if not token:
                return found

    def list_deliveries(self, **filters: Any) -> list[dpb.Delivery]:
        found: list[dpb.Delivery] = []
        token = ""
        while True:
            page = self.deliveries.ListDeliveries(
                dpb.ListDeliveriesRequest(page_size=1000, page_token=token, **filters),
                timeout=RPC_TIMEOUT,
            )
            found.extend(page.deliveries)
            token = page.next_page_token
            if not token:
                return found

    def list_attempts(self, delivery_id: str) -> list[dpb.DeliveryAttempt]:
        found: list[dpb.DeliveryAttempt] = []
        token = ""
        while True:
            page = self.deliveries.ListDeliveryAttempts(
                dpb.ListDeliveryAttemptsRequest(
                    delivery_id=delivery_id, page_size=1000, page_token=token
                ),
                timeout=RPC_TIMEOUT,
            )
            found.extend(page.attempts)
            token = page.next_page_token
            if not token:
                return found

    def wait_gateway_ready(self, receiver: Receiver) -> None:
        """Ready when a freshly created ECHO_TOKEN subscription gets a signed webhook."""
        sub = self.create_subscription(receiver.url(PROBE_PATH), [PROBE_TYPE])
        receiver.secrets[PROBE_PATH] = sub.secret
        event = self.publish(PROBE_TYPE, {"probe": True})
        eventually(
            lambda: any(
                r.webhook_id == event.id and r.signature_valid
                for r in receiver.answered(PROBE_PATH, 200)
            ),
            timeout=STARTUP_TIMEOUT,
            what="probe webhook delivered",
        )
        self.subscriptions.DeleteSubscription(
            spb.DeleteSubscriptionRequest(id=sub.id), timeout=RPC_TIMEOUT
        )
