"""The `hookwire` command as its users meet it: an expected failure (a bad setting, a taken
port, an unreachable broker, a missing or refused token, a reader that stops reading) is one
line on stderr and a non-zero exit, never a traceback; and two servers never share a port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from hookwire.v1 import events_pb2 as epb
from tests.support.in_process import ADMIN_TOKEN
from tests.support.ports import free_port
from tests.support.processes import RPC_TIMEOUT, Hookwire
from tests.support.receivers import ThreadedReceiver

Serve = Callable[..., Hookwire]
AT_ONCE = 15.0  # seconds: a refusal comes before anything starts, so well within this


def run_hookwire(
    *argv: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HOOKWIRE_")}
    return subprocess.run(
        [sys.executable, "-m", "hookwire.cli", *argv],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**clean, **(env or {})},
        stdin=subprocess.DEVNULL,
        timeout=AT_ONCE,
    )


def serve_argv(database: Path, grpc_port: int, http_port: int) -> list[str]:
    return [
        "serve",
        "--database-url", f"sqlite:///{database}",
        "--grpc-address", f"127.0.0.1:{grpc_port}",
        "--http-address", f"127.0.0.1:{http_port}",
    ]  # fmt: skip


def test_serve_with_a_bad_cidr_stops_at_once_with_one_line_naming_the_setting(
    tmp_path: Path,
) -> None:
    database = tmp_path / "never.db"
    started = time.monotonic()
    done = run_hookwire(
        *serve_argv(database, free_port(), free_port()),
        cwd=tmp_path,
        env={"HOOKWIRE_ALLOWED_CIDRS": "127.0.0.0/8,10.0.0.0/33"},
    )
    assert done.returncode != 0
    assert done.stderr == (
        "hookwire: HOOKWIRE_ALLOWED_CIDRS: invalid CIDR in allow-list: '10.0.0.0/33'\n"
    )
    assert time.monotonic() - started < AT_ONCE
    assert not database.exists()  # nothing started


def test_a_second_serve_on_the_same_http_port_fails_naming_the_address_and_the_first_serves_on(
    hookwire: Serve, receiver: ThreadedReceiver, tmp_path: Path
) -> None:
    first = hookwire()
    gateways = first.gateway_pids()
    assert len(gateways) == 2  # the gateways of one serve share the port
    done = run_hookwire(
        *serve_argv(tmp_path / "second.db", free_port(), first.http_port),
        cwd=tmp_path,
        env={"HOOKWIRE_ADMIN_TOKEN": ADMIN_TOKEN},
    )
    assert done.returncode != 0
    assert done.stderr == (
        f"hookwire: cannot listen on 127.0.0.1:{first.http_port}: Address already in use\n"
    )
    first.wait_gateway_ready(receiver)
    assert first.gateway_pids() == gateways  # none was restarted


def test_a_second_serve_on_the_same_grpc_port_fails_with_one_line_naming_the_address(
    hookwire: Serve, tmp_path: Path
) -> None:
    first = hookwire(ready=False)
    done = run_hookwire(
        *serve_argv(tmp_path / "second.db", first.grpc_port, free_port()),
        cwd=tmp_path,
        env={"HOOKWIRE_ADMIN_TOKEN": ADMIN_TOKEN},
    )
    assert done.returncode != 0
    assert done.stderr == (
        f"hookwire: cannot listen on 127.0.0.1:{first.grpc_port}: Address already in use\n"
    )


def test_a_call_without_a_token_is_one_line_saying_a_token_is_required(
    hookwire: Serve, tmp_path: Path
) -> None:
    hw = hookwire(ready=False)
    done = run_hookwire("--address", hw.address, "events", "list", cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("hookwire: UNAUTHENTICATED: ")
    assert done.stderr.count("\n") == 1


def test_a_call_with_a_refused_token_is_one_line_saying_so(hookwire: Serve, tmp_path: Path) -> None:
    hw = hookwire(ready=False)
    done = run_hookwire(
        "--address", hw.address, "--token", "hwk_nobody_knows", "events", "list", cwd=tmp_path
    )
    assert done.returncode == 1
    assert done.stderr.startswith("hookwire: UNAUTHENTICATED: ")
    assert done.stderr.count("\n") == 1


def test_a_reader_that_stops_early_is_one_line_and_a_non_zero_exit(
    hookwire: Serve, tmp_path: Path
) -> None:
    hw = hookwire(ready=False)
    batch = epb.PublishEventsRequest(
        events=[epb.PublishEventRequest(type="bulk.item", data=b'{"n": 1}') for _ in range(1000)]
    )
    hw.events.PublishEvents(batch, timeout=RPC_TIMEOUT)
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HOOKWIRE_")}
    argv = ["--address", hw.address, "events", "list", "--page-size", "1000"]
    with subprocess.Popen(
        [sys.executable, "-m", "hookwire.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env={**clean, "HOOKWIRE_TOKEN": ADMIN_TOKEN},
        cwd=tmp_path,
    ) as reading:  # as `hookwire events list | head -c 10` does
        assert reading.stdout is not None and reading.stderr is not None
        assert len(reading.stdout.read(10)) == 10
        reading.stdout.close()
        stderr = reading.stderr.read().decode()
        assert reading.wait(AT_ONCE) != 0
    assert stderr == "hookwire: output closed before it was all written\n"


def test_listen_on_a_taken_port_is_one_line_naming_the_address(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_hookwire("listen", "--port", str(port), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr == f"hookwire: cannot listen on 127.0.0.1:{port}: Address already in use\n"


def test_a_gateway_on_a_taken_http_port_is_one_line_naming_the_address(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        done = run_hookwire(
            "gateway",
            cwd=tmp_path,
            env={
                "HOOKWIRE_HTTP_ADDRESS": address,
                "HOOKWIRE_GRPC_ADDRESS": f"127.0.0.1:{free_port()}",
            },
        )
    assert done.returncode == 1
    assert done.stderr == f"hookwire: cannot listen on {address}: Address already in use\n"
