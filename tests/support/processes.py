"""`hookwire serve` as a real process group, and the clock it reads.

* `Hookwire` starts `python -m hookwire.cli serve` in its own session (process group),
  waits for the `broker listening` line and gRPC health SERVING, and offers blocking gRPC
  helpers plus a gateway readiness probe (a webhook gone end to end to a ThreadedReceiver).
* `TestClock` drives a broker's `HOOKWIRE_CLOCK_FILE` (broker.clock.FileClock): the
  broker's "now" is whatever the test last wrote, and moves only when the test moves it.

The fixtures that start these (and always clean up) live in tests/e2e/conftest.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from hookwire.client import BearerToken
from hookwire.v1 import deliveries_pb2 as dpb
from hookwire.v1 import deliveries_pb2_grpc as drpc
from hookwire.v1 import events_pb2 as epb
from hookwire.v1 import events_pb2_grpc as erpc
from hookwire.v1 import sources_pb2_grpc as rrpc
from hookwire.v1 import subscriptions_pb2 as spb
from hookwire.v1 import subscriptions_pb2_grpc as srpc
from tests.support.in_process import ADMIN_TOKEN
from tests.support.ports import free_port
from tests.support.receivers import ThreadedReceiver
from tests.support.waiting import eventually_sync

STARTUP_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0
RPC_TIMEOUT = 10.0
LISTENING = re.compile(r"hookwire: broker listening on (\S+)")
PROBE_PATH = "/e2e-probe"
PROBE_TYPE = "e2e.probe"


def _child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKWIRE_")}
    env.update(
        HOOKWIRE_ALLOWED_CIDRS="127.0.0.0/8",
        PYTHONUNBUFFERED="1",
        HOOKWIRE_ADMIN_TOKEN=ADMIN_TOKEN,  # the server accepts it as admin...
        HOOKWIRE_TOKEN=ADMIN_TOKEN,  # ...and the client commands call with it
    )
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
        tls_ca: Path | None = None,
    ) -> None:
        self.workdir = workdir
        self.tls_ca = tls_ca  # set: the broker listens with TLS, its certificate from this CA
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
        self.sources: rrpc.SourceServiceStub

    def admin_token(self) -> str:
        """The provisioned admin token, or (with `HOOKWIRE_ADMIN_TOKEN=""`, as a fresh
        `make run`) the one serve wrote beside its database at first start."""
        provisioned = self.env.get("HOOKWIRE_ADMIN_TOKEN", ADMIN_TOKEN)
        return provisioned or self.admin_token_file().read_text().strip()

    def admin_token_file(self) -> Path:
        return Path(f"{self.database}.admin-token")

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
        base = (
            grpc.secure_channel(
                self.address, grpc.ssl_channel_credentials(self.tls_ca.read_bytes())
            )
            if self.tls_ca is not None
            else grpc.insecure_channel(self.address)
        )
        self.channel = grpc.intercept_channel(base, BearerToken(self.admin_token()))
        self.events = erpc.EventServiceStub(self.channel)
        self.subscriptions = srpc.SubscriptionServiceStub(self.channel)
        self.deliveries = drpc.DeliveryServiceStub(self.channel)
        self.sources = rrpc.SourceServiceStub(self.channel)
        health = health_pb2_grpc.HealthStub(self.channel)

        def serving() -> bool:
            try:
                answer = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)
            except grpc.RpcError:
                return False
            return bool(answer.status == health_pb2.HealthCheckResponse.SERVING)  # untyped stubs

        eventually_sync(
            serving, within=max(deadline - time.monotonic(), 1.0), what="health SERVING"
        )

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
        eventually_sync(lambda: not group_alive(self.pid), within=STOP_TIMEOUT, what="group gone")

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
                if exc.code() == grpc.StatusCode.UNAVAILABLE:
                    raise AssertionError(f"UNAVAILABLE: {exc.details()}") from None
                raise
            created.append(answer.subscription)
            return True

        eventually_sync(attempt, within=timeout, interval=0.1, what=f"create subscription {url}")
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

    def wait_gateway_ready(self, receiver: ThreadedReceiver) -> None:
        """Ready when a freshly created ECHO_TOKEN subscription gets a signed webhook."""
        sub = self.create_subscription(receiver.url(PROBE_PATH), [PROBE_TYPE])
        receiver.secrets[PROBE_PATH] = sub.secret
        event = self.publish(PROBE_TYPE, {"probe": True})
        eventually_sync(
            lambda: any(
                r.webhook_id == event.id and r.signature_valid
                for r in receiver.answered(PROBE_PATH, 200)
            ),
            within=STARTUP_TIMEOUT,
            what="probe webhook delivered",
        )
        self.subscriptions.DeleteSubscription(
            spb.DeleteSubscriptionRequest(id=sub.id), timeout=RPC_TIMEOUT
        )
