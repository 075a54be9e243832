"""Real processes for a scenario run: hookwire serve/broker/gateway, the sink, the no-op server.

Each process gets its own session (process group) so that stopping it also stops whatever
it spawned (`hookwire serve` starts gateway children). A ProcessStack stops everything it
started when its block ends, whatever happened, and a module-wide registry lets run.py kill
stragglers if the harness itself is interrupted. Every wait has a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import aiohttp
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

BENCH = Path(__file__).resolve().parent
STARTUP_TIMEOUT = 30.0
STOP_GRACE = 10.0
LISTENING = re.compile(r"broker listening on (\S+)")
_LIVE: set[Proc] = set()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def hookwire_command() -> list[str]:
    """The installed `hookwire` script next to this interpreter (the real CLI)."""
    script = Path(sys.executable).parent / "hookwire"
    return [str(script)] if script.exists() else [sys.executable, "-m", "hookwire.cli"]


# Provisioned tokens (as a deployment would): the harness calls as admin, and a separately
# started `hookwire gateway` presents the gateway token the broker was given.
ADMIN_TOKEN = "bench-admin-token-" + "a" * 32
GATEWAY_TOKEN = "bench-gateway-token-" + "g" * 32


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKWIRE_")}
    env.update(
        HOOKWIRE_ALLOWED_CIDRS="127.0.0.0/8",
        HOOKWIRE_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        HOOKWIRE_ADMIN_TOKEN=ADMIN_TOKEN,
        HOOKWIRE_GATEWAY_TOKEN=GATEWAY_TOKEN,
    )
    env.update(extra)
    return env


@dataclass(eq=False)
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    killed: bool = False

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def log_tail(self, lines: int = 15) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def rss_mb(self) -> tuple[float, float]:
        """(VmRSS, VmHWM) in MiB of the process itself (not its children)."""
        fields: dict[str, float] = {}
        for line in Path(f"/proc/{self.popen.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                fields[name] = int(value.split()[0]) / 1024
        return fields["VmRSS"], fields["VmHWM"]

    def stop(self, grace: float = STOP_GRACE) -> None:
        """SIGTERM the group, wait up to `grace`, then SIGKILL it."""
        _LIVE.discard(self)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(grace)
        except subprocess.TimeoutExpired:
            self.killed = True
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGKILL)  # children that outlived the leader
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(5)


def kill_all() -> None:
    """Last resort for run.py: kill every process group still registered."""
    for proc in list(_LIVE):
        proc.stop(grace=2.0)


class ProcessStack:
    """Starts processes into `workdir`; stops them all (last first) when the block ends."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: list[Proc] = []

    def __enter__(self) -> ProcessStack:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for proc in reversed(self.procs):
            proc.stop()

    def spawn(self, name: str, argv: list[str], env: dict[str, str]) -> Proc:
        log_path = self.workdir / f"{name}-{len(self.procs)}.log"
        with log_path.open("wb") as log:
            popen = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=env, cwd=self.workdir, start_new_session=True,
            )  # fmt: skip
        proc = Proc(name, popen, log_path)
        self.procs.append(proc)
        _LIVE.add(proc)
        return proc

    def stop(self, proc: Proc) -> None:
        proc.stop()
        self.procs.remove(proc)


async def wait_for_line(proc: Proc, pattern: re.Pattern[str], limit: float) -> re.Match[str]:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        match = pattern.search(proc.log())
        if match:
            return match
        if not proc.alive() or "Traceback (most recent call last)" in proc.log():
            raise RuntimeError(f"{proc.name} failed to start:\n{proc.log_tail()}")
        await asyncio.sleep(0.05)
    raise TimeoutError(f"{proc.name}: no {pattern.pattern!r} within {limit}s:\n{proc.log_tail()}")


async def wait_serving(address: str, limit: float = STARTUP_TIMEOUT) -> None:
    """Until gRPC health says SERVING for the whole server."""
    deadline = time.monotonic() + limit
    async with grpc.aio.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            with contextlib.suppress(grpc.aio.AioRpcError):
                reply = await stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1.0)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{address} not SERVING within {limit}s")
            await asyncio.sleep(0.1)


async def wait_http(url: str, proc: Proc, limit: float = STARTUP_TIMEOUT) -> None:
    deadline = time.monotonic() + limit
    async with aiohttp.ClientSession() as session:
        while True:
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(url, timeout=aiohttp.ClientTimeout(total=1)) as reply:
                    if reply.status == 200:
                        return
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited early:\n{proc.log_tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not answer within {limit}s:\n{proc.log_tail()}")
            await asyncio.sleep(0.05)


@dataclass
class Hookwire:
    proc: Proc
    address: str  # broker gRPC address
    http_port: int = 0  # gateway HTTP port (serve only)


def _database_args(workdir: Path) -> list[str]:
    return ["--database-url", f"sqlite:///{workdir / 'hookwire.db'}", "--grpc-address"]


async def start_serve(stack: ProcessStack, **env: str) -> Hookwire:
    """`hookwire serve` on a fresh database; returns once the broker is SERVING and the
    gateway's HTTP listener answers."""
    http_port = free_port()
    argv = [*hookwire_command(), "serve", *_database_args(stack.workdir), "127.0.0.1:0"]
    argv += ["--http-address", f"127.0.0.1:{http_port}"]
    proc = stack.spawn("serve", argv, base_env(**env))
    address = (await wait_for_line(proc, LISTENING, STARTUP_TIMEOUT))[1]
    await wait_serving(address)
    await wait_http(f"http://127.0.0.1:{http_port}/healthz", proc)
    return Hookwire(proc, address, http_port)


async def start_broker(stack: ProcessStack, **env: str) -> Hookwire:
    """`hookwire broker` alone: deliveries queue up with no gateway to take them."""
    argv = [*hookwire_command(), "broker", *_database_args(stack.workdir), "127.0.0.1:0"]
    proc = stack.spawn("broker", argv, base_env(**env))
    address = (await wait_for_line(proc, LISTENING, STARTUP_TIMEOUT))[1]
    await wait_serving(address)
    return Hookwire(proc, address)


async def start_gateway(stack: ProcessStack, broker_address: str, **env: str) -> Proc:
    http_port = free_port()
    env = base_env(
        HOOKWIRE_GRPC_ADDRESS=broker_address, HOOKWIRE_HTTP_ADDRESS=f"127.0.0.1:{http_port}", **env
    )
    proc = stack.spawn("gateway", [*hookwire_command(), "gateway"], env)
    await wait_http(f"http://127.0.0.1:{http_port}/healthz", proc)
    return proc


@dataclass
class SinkProc:
    proc: Proc
    port: int

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


async def start_sink(stack: ProcessStack, port: int = 0) -> SinkProc:
    port = port or free_port()
    argv = [sys.executable, str(BENCH / "sink.py"), "--port", str(port)]
    proc = stack.spawn("sink", argv, base_env())
    await wait_http(f"http://127.0.0.1:{port}/_stats", proc)
    return SinkProc(proc, port)


async def start_noop(stack: ProcessStack) -> tuple[Proc, str]:
    """The no-op gRPC server of the ceilings, and its address."""
    argv = [sys.executable, str(BENCH / "ceilings.py"), "--serve-noop"]
    proc = stack.spawn("noop", argv, base_env())
    match = await wait_for_line(proc, re.compile(r"noop listening on (\S+)"), STARTUP_TIMEOUT)
    return proc, match[1]
