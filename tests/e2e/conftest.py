"""End-to-end fixtures: a webhook receiver, and `hookwire serve` process groups.

Every process group a test starts is SIGTERMed at teardown, waited for, and SIGKILLed if
it lingers; held receiver requests are released first so gateways can drain quickly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.processes import Hookwire
from tests.support.receivers import ThreadedReceiver


@pytest.fixture
def receiver() -> Iterator[ThreadedReceiver]:
    r = ThreadedReceiver()
    r.start()
    try:
        yield r
    finally:
        r.release_all()
        r.stop()


@pytest.fixture
def hookwire(
    tmp_path: Path, receiver: ThreadedReceiver, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Hookwire]]:
    """Factory: `hookwire(*serve_args, database=None, ready=True)` → a started Hookwire.

    `database` defaults to one file per test (so a restart can reuse it); `ready=True`
    also waits for a probe webhook to go through a gateway to `receiver`; `wait=False`
    only spawns the process (for tests of start-up itself); `grpc_port` picks the port;
    `env` adds `HOOKWIRE_*` settings (e.g. a TestClock's `env`).
    """
    started: list[Hookwire] = []

    def start(
        *args: str,
        database: Path | None = None,
        ready: bool = True,
        wait: bool = True,
        grpc_port: int | None = None,
        env: dict[str, str] | None = None,
    ) -> Hookwire:
        server = Hookwire(
            tmp_path,
            database or tmp_path / "hw.db",
            list(args),
            f"serve-{len(started)}",
            grpc_port=grpc_port,
            env=env,
        )
        started.append(server)
        if not wait:
            server.spawn()
            return server
        server.start()
        if ready:
            server.wait_gateway_ready(receiver)
        return server

    try:
        yield start
    finally:
        receiver.release_all()
        for server in reversed(started):
            server.cleanup()
        failed = getattr(request.node, "rep_call", None)
        if failed is None or failed.failed:
            for server in started:
                print(f"--- {server.name} stdout ---\n{server.stdout}")
                print(f"--- {server.name} stderr (tail) ---\n{server.stderr()[-4000:]}")


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report
