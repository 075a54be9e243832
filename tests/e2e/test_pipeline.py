"""The whole pipeline as processes: `hookwire serve` (broker + gateway children), a real
webhook receiver that verifies signatures, and gRPC / CLI clients."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hookwire.v1 import deliveries_pb2 as dpb
from hookwire.v1 import subscriptions_pb2 as spb
from tests.support.processes import Hookwire, group_alive
from tests.support.receivers import ThreadedReceiver
from tests.support.waiting import eventually_sync

Serve = Callable[..., Hookwire]


def _delivery(hw: Hookwire, subscription_id: str) -> dpb.Delivery:
    deliveries = hw.list_deliveries(subscription_id=subscription_id)
    assert len(deliveries) == 1, deliveries
    return deliveries[0]


def _state_is(hw: Hookwire, subscription_id: str, state: int) -> Callable[[], dpb.Delivery]:
    def check() -> dpb.Delivery:
        delivery = _delivery(hw, subscription_id)
        assert delivery.state == state, dpb.DeliveryState.Name(delivery.state)
        return delivery

    return check


# -- 1. retries -------------------------------------------------------------------------------


def test_retry_until_success_keeps_webhook_id(hookwire: Serve, receiver: ThreadedReceiver) -> None:
    hw = hookwire("--retry-schedule", "0.2s,0.2s,0.2s")
    assert len(hw.gateway_pids()) == 2  # serve's default: two gateways on one HTTP port
    path = "/flaky"
    receiver.script(path, [500, 500, 200])
    sub = hw.create_subscription(receiver.url(path), ["order.created"])
    receiver.secrets[path] = sub.secret

    event = hw.publish("order.created", {"order": 17})

    delivery = eventually_sync(_state_is(hw, sub.id, dpb.DELIVERY_STATE_DELIVERED))
    got = receiver.requests(path)
    assert [r.status for r in got] == [500, 500, 200]
    assert [r.webhook_id for r in got] == [event.id] * 3
    assert all(r.signature_valid for r in got), [r.signature_error for r in got]
    assert all(r.json()["data"] == {"order": 17} for r in got)

    assert delivery.event_id == event.id
    assert delivery.attempt_count == 3
    attempts = hw.list_attempts(delivery.id)  # recorded in the same transaction as the state
    assert [a.status_code for a in attempts] == [500, 500, 200]
    assert [a.attempt_number for a in attempts] == [1, 2, 3]
    assert [a.result for a in attempts] == [
        dpb.ATTEMPT_RESULT_FAILED,
        dpb.ATTEMPT_RESULT_FAILED,
        dpb.ATTEMPT_RESULT_SUCCEEDED,
    ]


# -- 2. 410 Gone --------------------------------------------------------------------------------


def test_gone_disables_subscription(hookwire: Serve, receiver: ThreadedReceiver) -> None:
    hw = hookwire("--retry-schedule", "0.2s,0.2s,0.2s")
    path = "/gone"
    receiver.script(path, [410, 410, 410, 410])
    sub = hw.create_subscription(receiver.url(path), ["user.deleted"])
    receiver.secrets[path] = sub.secret

    first = hw.publish("user.deleted", {"user": 1})

    delivery = eventually_sync(_state_is(hw, sub.id, dpb.DELIVERY_STATE_FAILED))
    assert delivery.event_id == first.id
    assert delivery.last_status_code == 410

    def disabled_subscription() -> spb.Subscription | None:
        current = hw.get_subscription(sub.id)
        return current if current.state == spb.SUBSCRIPTION_STATE_DISABLED else None

    disabled = eventually_sync(disabled_subscription)
    assert "410" in disabled.disabled_reason
    got = receiver.requests(path)
    assert [(r.status, r.webhook_id, r.signature_valid) for r in got] == [(410, first.id, True)]
    attempts = hw.list_attempts(delivery.id)
    assert [(a.status_code, a.result) for a in attempts] == [(410, dpb.ATTEMPT_RESULT_GONE)]

    second = hw.publish("user.deleted", {"user": 2})
    # A publish answers after its deliveries are committed: nothing was queued for it.
    assert hw.list_deliveries(event_id=second.id) == []
    assert [d.event_id for d in hw.list_deliveries(subscription_id=sub.id)] == [first.id]


# -- 3. a gateway dies mid-delivery --------------------------------------------------------------


def test_gateway_killed_mid_delivery(hookwire: Serve, receiver: ThreadedReceiver) -> None:
    hw = hookwire("--lease-seconds", "2", "--retry-schedule", "0.2s,0.2s,0.2s", "--gateways", "1")
    path = "/held"
    receiver.hold(path, 1)
    sub = hw.create_subscription(receiver.url(path), ["payment.captured"])
    receiver.secrets[path] = sub.secret

    event = hw.publish("payment.captured", {"amount": 42})

    held = eventually_sync(
        lambda: [r for r in receiver.requests(path) if r.held], what="held request"
    )
    assert held[0].webhook_id == event.id and held[0].signature_valid
    gateways = hw.gateway_pids()
    assert len(gateways) == 1, gateways
    os.kill(gateways[0], signal.SIGKILL)

    restarted = eventually_sync(
        lambda: [p for p in hw.gateway_pids() if p != gateways[0]], what="a new gateway"
    )
    assert gateways[0] not in hw.gateway_pids() and restarted

    delivered = eventually_sync(lambda: receiver.answered(path, 200), within=20)
    assert all(r.webhook_id == event.id for r in receiver.requests(path))
    assert all(r.signature_valid for r in receiver.requests(path))
    assert delivered[0].json()["data"] == {"amount": 42}

    delivery = eventually_sync(_state_is(hw, sub.id, dpb.DELIVERY_STATE_DELIVERED))
    assert delivery.event_id == event.id
    attempts = hw.list_attempts(delivery.id)
    assert attempts and attempts[-1].status_code == 200, attempts
    assert hw.proc is not None and hw.proc.poll() is None  # serve itself survived


# -- 4. the broker dies with work queued ------------------------------------------------------


def test_broker_killed_loses_nothing(
    hookwire: Serve, receiver: ThreadedReceiver, tmp_path: Path
) -> None:
    args = ("--lease-seconds", "2", "--retry-schedule", ",".join(["0.3s"] + ["1s"] * 15))
    hw = hookwire(*args)
    path = "/down"
    sub = hw.create_subscription(receiver.url(path), ["load.*"])
    receiver.secrets[path] = sub.secret
    receiver.stop()  # the endpoint was verified, and now nobody listens there

    published = [hw.publish("load.item", {"n": n}).id for n in range(50)]
    assert len(set(published)) == 50
    hw.kill_group()

    receiver.start()
    again = hookwire(*args, database=tmp_path / "hw.db", ready=False)

    def all_received() -> bool:
        seen = {r.webhook_id for r in receiver.answered(path, 200) if r.signature_valid}
        missing = set(published) - seen
        assert not missing, f"{len(missing)} not yet received"
        return True

    eventually_sync(all_received, within=25)
    assert all(r.signature_valid for r in receiver.requests(path))
    assert {r.webhook_id for r in receiver.requests(path)} <= set(published)

    def all_delivered() -> list[dpb.Delivery]:
        deliveries = again.list_deliveries(subscription_id=sub.id)
        states = [dpb.DeliveryState.Name(d.state) for d in deliveries]
        assert states.count("DELIVERY_STATE_DELIVERED") == 50, states
        return deliveries

    deliveries = eventually_sync(all_delivered)
    assert sorted(d.event_id for d in deliveries) == sorted(published)


# -- 5. graceful shutdown --------------------------------------------------------------------


def test_sigterm_stops_cleanly(hookwire: Serve) -> None:
    hw = hookwire()
    assert hw.gateway_pids()
    os.kill(hw.pid, signal.SIGTERM)
    assert hw.proc is not None
    assert hw.proc.wait(30) == 0
    hw.wait_stdout_closed(10)
    assert "hookwire: stopped" in hw.stdout
    eventually_sync(lambda: not group_alive(hw.pid), within=10, what="no gateway left behind")


def test_serve_exits_when_grpc_port_is_taken(hookwire: Serve) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        hw = hookwire(grpc_port=taken.getsockname()[1], wait=False)
        assert hw.proc is not None
        try:
            code = hw.proc.wait(10)
        except subprocess.TimeoutExpired:
            pytest.fail(f"serve still running 10 s after failing to bind: {hw.stderr()[-600:]}")
    assert code != 0
    assert "broker listening" not in hw.stdout
    assert "cannot listen on" in hw.stderr()
    eventually_sync(lambda: not group_alive(hw.pid), within=10, what="no gateway left behind")


# -- 6. the CLI tour ------------------------------------------------------------------------------


def _hookwire_command() -> list[str]:
    script = Path(sys.executable).with_name("hookwire")
    return [str(script)] if script.exists() else [sys.executable, "-m", "hookwire.cli"]


def _cli(hw: Hookwire, *args: str) -> Any:
    # As a user would: no token given, the CLI finds the one serve wrote by the database.
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKWIRE_")}
    env["HOOKWIRE_DATABASE_URL"] = f"sqlite:///{hw.database}"
    done = subprocess.run(
        [*_hookwire_command(), "--address", hw.address, *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        cwd=hw.workdir,
    )
    assert done.returncode == 0, (args, done.returncode, done.stdout, done.stderr)
    return json.loads(done.stdout)


def test_cli_tour(hookwire: Serve, receiver: ThreadedReceiver) -> None:
    hw = hookwire(env={"HOOKWIRE_ADMIN_TOKEN": ""})  # zero setup: serve writes a token file
    token_file = hw.admin_token_file()
    assert token_file.stat().st_mode & 0o777 == 0o600
    token = token_file.read_text().strip()
    assert token.startswith("hwk_")
    assert f"admin token written to {token_file}" in hw.stderr()  # where, never what
    assert token not in hw.stdout + hw.stderr()
    path = "/hook"
    handshakes_before = len(receiver.handshakes)

    created = _cli(
        hw, "subscriptions", "create", "--url", receiver.url(path), "--event-type", "invoice.*"
    )["subscription"]
    assert created["id"].startswith("sub_")
    assert created["state"] == "SUBSCRIPTION_STATE_ACTIVE"
    assert created["event_types"] == ["invoice.*"]
    assert created["secret"].startswith("whsec_")
    assert [p for p, _ in receiver.handshakes[handshakes_before:]] == [path]  # ECHO_TOKEN
    receiver.secrets[path] = created["secret"]

    event = _cli(hw, "publish", "--type", "invoice.paid", "--data", '{"amount": 5}')["event"]
    assert event["id"].startswith("evt_") and event["type"] == "invoice.paid"

    got = eventually_sync(lambda: receiver.answered(path, 200), what="webhook received")
    assert got[0].webhook_id == event["id"] and got[0].signature_valid, got[0].signature_error
    body = got[0].json()
    assert (body["id"], body["type"], body["data"]) == (event["id"], "invoice.paid", {"amount": 5})

    def delivered() -> dict[str, Any]:
        listed = _cli(hw, "deliveries", "list")["deliveries"]
        mine: list[dict[str, Any]] = [d for d in listed if d["event_id"] == event["id"]]
        assert len(mine) == 1, listed
        assert mine[0]["subscription_id"] == created["id"]
        assert mine[0]["state"] == "DELIVERY_STATE_DELIVERED", mine[0]
        return mine[0]

    delivery = eventually_sync(delivered, what="CLI shows DELIVERED")
    attempts = _cli(hw, "attempts", "list", delivery["id"])["attempts"]
    assert len(attempts) == 1, attempts
    assert attempts[0]["delivery_id"] == delivery["id"]
    assert attempts[0]["status_code"] == 200
    assert attempts[0]["result"] == "ATTEMPT_RESULT_SUCCEEDED"
