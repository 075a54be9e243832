"""`hookwire serve` with TLS on its gRPC port, as processes: its gateways reach the broker
over TLS, the `hookwire` command publishes over TLS, and a webhook arrives signed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.certificates import CertificateAuthority
from tests.support.in_process import ADMIN_TOKEN
from tests.support.processes import Hookwire
from tests.support.receivers import ThreadedReceiver
from tests.support.waiting import eventually_sync


@pytest.fixture
def authority(tmp_path: Path) -> CertificateAuthority:
    return CertificateAuthority(tmp_path)


@pytest.fixture
def tls_hookwire(
    tmp_path: Path, authority: CertificateAuthority, receiver: ThreadedReceiver
) -> Iterator[Hookwire]:
    server = authority.server("127.0.0.1")
    hw = Hookwire(
        tmp_path,
        tmp_path / "hw.db",
        ["--tls-cert", str(server.cert), "--tls-key", str(server.key)],
        "serve-tls",
        env={"HOOKWIRE_TLS_CA": str(authority.cert)},  # how its gateways trust the broker
        tls_ca=authority.cert,
    )
    try:
        hw.start()
        hw.wait_gateway_ready(receiver)
        yield hw
    finally:
        receiver.release_all()
        hw.cleanup()


def hookwire_command(*argv: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOOKWIRE_")}
    env["HOOKWIRE_TOKEN"] = ADMIN_TOKEN
    return subprocess.run(
        [sys.executable, "-m", "hookwire.cli", *argv],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        cwd=cwd,
    )


def test_a_webhook_published_over_tls_with_the_command_is_delivered_through_the_gateways(
    tls_hookwire: Hookwire, authority: CertificateAuthority, receiver: ThreadedReceiver
) -> None:
    hw = tls_hookwire
    path = "/tls"
    sub = hw.create_subscription(receiver.url(path), ["invoice.*"])
    receiver.secrets[path] = sub.secret

    done = hookwire_command(
        "--address", hw.address, "--tls-ca", str(authority.cert),
        "publish", "--type", "invoice.paid", "--data", '{"amount": 5}',
        cwd=hw.workdir,
    )  # fmt: skip
    assert done.returncode == 0, (done.stdout, done.stderr)
    event = json.loads(done.stdout)["event"]

    got = eventually_sync(lambda: receiver.answered(path, 200), what="webhook received")
    assert got[0].webhook_id == event["id"] and got[0].signature_valid, got[0].signature_error
    assert got[0].json()["data"] == {"amount": 5}
    assert ADMIN_TOKEN not in hw.stdout + hw.stderr()


def test_the_command_without_the_ca_cannot_reach_a_tls_broker(tls_hookwire: Hookwire) -> None:
    done = hookwire_command(
        "--address", tls_hookwire.address, "publish", "--type", "invoice.paid",
        "--data", "{}",
        cwd=tls_hookwire.workdir,
    )  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.startswith("hookwire: UNAVAILABLE"), done.stderr
    assert "Traceback" not in done.stderr
