"""The `hookwire` command: flags override the environment field by field, and the client
commands run without loading any of the server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from hookwire.cli import build_parser
from hookwire.serve import config_from_flags

SERVER_PACKAGES = "('broker', 'gateway')"


def test_lease_seconds_flag_keeps_the_in_flight_limit_from_the_environment() -> None:
    flags = build_parser().parse_args(["serve", "--lease-seconds", "30"])
    config = config_from_flags(flags, {"HOOKWIRE_MAX_IN_FLIGHT_PER_SUBSCRIPTION": "7"})
    assert config.dispatch.lease_seconds == 30
    assert config.dispatch.max_in_flight_per_subscription == 7


def test_retry_schedule_flag_keeps_disable_after_from_the_environment() -> None:
    flags = build_parser().parse_args(["broker", "--retry-schedule", "1s,2s"])
    config = config_from_flags(flags, {"HOOKWIRE_DISABLE_AFTER": "2d"})
    assert config.retry.schedule == (1.0, 2.0)
    assert config.retry.disable_after == 2 * 86400


def test_flags_not_given_leave_the_environment_as_it_is() -> None:
    env = {"HOOKWIRE_LEASE_SECONDS": "45", "HOOKWIRE_RETRY_SCHEDULE": "3s"}
    config = config_from_flags(build_parser().parse_args(["broker"]), env)
    assert config.dispatch.lease_seconds == 45
    assert config.retry.schedule == (3.0,)


def test_a_bad_retry_schedule_flag_is_an_error_naming_the_flag() -> None:
    flags = build_parser().parse_args(["serve", "--retry-schedule", "5s,soon"])
    with pytest.raises(ValueError, match=r"^--retry-schedule: .*'soon'"):
        config_from_flags(flags, {})


@pytest.mark.parametrize(
    "argv",
    [
        ["serve"], ["broker"], ["gateway"], ["listen"],
        ["publish", "--type", "t"], ["events", "get", "e"], ["events", "list"],
        ["subscriptions", "create", "--url", "u", "--event-type", "t"],
        ["subscriptions", "get", "s"], ["subscriptions", "list"],
        ["subscriptions", "update", "s"], ["subscriptions", "delete", "s"],
        ["deliveries", "list"], ["deliveries", "retry", "d"], ["attempts", "list", "d"],
        ["sources", "create", "--provider", "github"], ["sources", "get", "s"],
        ["sources", "list"], ["sources", "delete", "s"], ["sources", "rotate", "s"],
    ],
)  # fmt: skip
def test_every_command_has_a_handler(argv: list[str]) -> None:
    handler: Callable[..., int] = build_parser().parse_args(argv).handler
    assert callable(handler)


def test_importing_the_cli_and_building_its_parser_loads_nothing_of_the_server() -> None:
    code = (
        "import sys, hookwire.cli; hookwire.cli.build_parser(); "
        f"assert not any(m.split('.')[0] in {SERVER_PACKAGES} for m in sys.modules), "
        f"sorted(m for m in sys.modules if m.split('.')[0] in {SERVER_PACKAGES})"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_failed_call_is_one_line_and_exit_code_1_and_loads_nothing_of_the_server() -> None:
    code = (
        "import sys, hookwire.cli; exit_code = hookwire.cli.main(sys.argv[1:]); "
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {SERVER_PACKAGES})); "
        "sys.exit(exit_code)"
    )
    with socket.socket() as bound_not_listening:  # connecting is refused at once
        bound_not_listening.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{bound_not_listening.getsockname()[1]}"
        done = subprocess.run(
            [sys.executable, "-c", code, "--address", address, "events", "get", "evt_1"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1, done.stderr
    assert done.stdout == "[]\n"
    assert done.stderr.startswith("hookwire: UNAVAILABLE: ")
    assert done.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["serve", "--gateways", "0"], "argument --gateways: must be at least 1, got 0"),
        (["serve", "--gateways", "two"], "argument --gateways: not a whole number: 'two'"),
        (["broker", "--lease-seconds", "soon"], "argument --lease-seconds: not a duration"),
        (["events", "list", "--page-size", "x"], "argument --page-size: invalid int value"),
        (["publish"], "the following arguments are required: --type"),
    ],
)
def test_a_bad_command_line_is_one_line_and_exit_code_2(argv: list[str], line: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hookwire.cli", *argv], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.startswith(f"hookwire: {line}")
    assert done.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("command", "env", "line"),
    [
        ("serve", {"HOOKWIRE_GATEWAYS": "0"}, "HOOKWIRE_GATEWAYS: must be at least 1, got 0"),
        ("serve", {"HOOKWIRE_LOG_LEVEL": "loud"}, "HOOKWIRE_LOG_LEVEL: not a log level: 'loud'"),
        ("broker", {"HOOKWIRE_LEASE_SECONDS": "-1"}, "HOOKWIRE_LEASE_SECONDS: not a duration"),
        ("gateway", {"HOOKWIRE_MAX_INBOUND_BYTES": "big"}, "HOOKWIRE_MAX_INBOUND_BYTES: not a"),
    ],
)
def test_a_bad_setting_stops_the_server_commands_with_one_line_naming_it(
    command: str, env: dict[str, str], line: str, tmp_path: Path
) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HOOKWIRE_")}
    done = subprocess.run(
        [sys.executable, "-m", "hookwire.cli", command, "--database-url", "sqlite:///x.db"]
        if command != "gateway"
        else [sys.executable, "-m", "hookwire.cli", command],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**clean, **env},
    )
    assert done.returncode == 1
    assert done.stderr.startswith(f"hookwire: {line}")
    assert done.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []  # nothing started
