"""SSRF guard: address classification, allow-list, and enforcement at connect time."""

from __future__ import annotations

import re
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult

from gateway.address_guard import (
    AddressPolicy,
    BlockedAddressError,
    blocked_reason,
    classify,
    guarded_connector,
)

# Teredo: server 65.54.227.120, client 10.0.0.1 stored as ~0x0a000001.
TEREDO_10_0_0_1 = "2001:0:4136:e378:8000:63bf:f5ff:fffe"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback address"),
        ("127.1.2.3", "loopback address"),
        ("::1", "loopback address"),
        ("10.1.2.3", "private address"),
        ("172.16.0.1", "private address"),
        ("172.31.255.255", "private address"),
        ("192.168.1.1", "private address"),
        ("100.64.0.1", "carrier-grade NAT address"),
        ("169.254.169.254", "cloud metadata address"),
        ("100.100.100.200", "cloud metadata address"),
        ("fd00:ec2::254", "cloud metadata address"),
        ("64:ff9b::a9fe:a9fe", "cloud metadata address"),
        ("64:ff9b:1::a9fe:a9fe", "cloud metadata address"),
        ("2002:a9fe:a9fe::1", "cloud metadata address"),
        ("::ffff:169.254.169.254", "cloud metadata address"),
        ("::169.254.169.254", "cloud metadata address"),
        ("::ffff:127.0.0.1", "loopback address"),
        (TEREDO_10_0_0_1, "private address"),
        ("169.254.1.1", "link-local address"),
        ("fe80::1", "link-local address"),
        ("fe80::1%lo", "link-local address"),
        ("fd12:3456::1", "private address"),
        ("224.0.0.1", "multicast address"),
        ("ff02::1", "multicast address"),
        ("0.0.0.0", "unspecified address"),
        ("::", "unspecified address"),
        ("255.255.255.255", "reserved address"),
        ("192.0.2.10", "documentation address"),
        ("2001:db8::1", "documentation address"),
        ("198.18.0.1", "benchmarking address"),
        ("64:ff9b:1:a9fe:a9:fe00::", "local-use NAT64 address"),
        ("::1:0:0:0", "reserved address"),
        ("not-an-ip", "invalid address"),
        ("", "invalid address"),
    ],
)
def test_blocked(address: str, reason: str) -> None:
    assert classify(address) == reason
    with pytest.raises(BlockedAddressError) as info:
        AddressPolicy().check(address)
    assert str(info.value) == f"refusing to connect to {address}: {reason}"
    assert info.value.reason == reason


@pytest.mark.parametrize(
    "address",
    [
        "93.184.216.34",
        "8.8.8.8",
        "2606:4700::1111",
        "::ffff:93.184.216.34",
        "64:ff9b::5db8:d822",  # NAT64 of 93.184.216.34
        "2002:5db8:d822::1",  # 6to4 of 93.184.216.34
        "172.32.0.1",
        "100.128.0.1",
    ],
)
def test_public_allowed(address: str) -> None:
    assert classify(address) is None
    AddressPolicy().check(address)


def test_allow_list_matches_raw_and_unwrapped() -> None:
    policy = AddressPolicy(["10.0.0.0/8", "fd00::/8"])
    policy.check("10.1.2.3")
    policy.check("::ffff:10.1.2.3")
    policy.check(TEREDO_10_0_0_1)
    policy.check("fd00::1")
    with pytest.raises(BlockedAddressError):
        policy.check("192.168.0.1")
    with pytest.raises(BlockedAddressError):
        policy.check("169.254.169.254")


def test_from_env_value() -> None:
    policy = AddressPolicy.from_env_value(" 127.0.0.0/8, ,192.168.5.7,")
    assert [str(n) for n in policy.allowed] == ["127.0.0.0/8", "192.168.5.7/32"]
    policy.check("127.0.0.1")
    policy.check("192.168.5.7")
    with pytest.raises(BlockedAddressError):
        policy.check("192.168.5.8")
    assert AddressPolicy.from_env_value("").allowed == ()


def test_from_env_value_rejects_invalid_cidr() -> None:
    with pytest.raises(ValueError, match=re.escape("10.0.0.300/8")):
        AddressPolicy.from_env_value("127.0.0.0/8,10.0.0.300/8")


def test_blocked_reason_ignores_unrelated_errors() -> None:
    assert blocked_reason(ConnectionRefusedError("nope")) is None
    assert blocked_reason(RuntimeError("refusing to connect to x: but not ours")) is None


@pytest.fixture
async def server_port() -> AsyncIterator[int]:
    async def handler(request: web.Request) -> web.Response:
        return web.Response(text="ok:" + (await request.text()))

    app = web.Application()
    app.router.add_post("/", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    assert runner.addresses
    port: int = runner.addresses[0][1]
    try:
        yield port
    finally:
        await runner.cleanup()


def make_client(policy: AddressPolicy) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(connector=guarded_connector(policy))


class DualStackResolver(AbstractResolver):
    """Resolves every name to ::1 and 127.0.0.1, like a dual-stack localhost."""

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            ResolveResult(hostname=host, host=ip, port=port, family=fam, proto=0, flags=0)
            for ip, fam in (("::1", socket.AF_INET6), ("127.0.0.1", socket.AF_INET))
        ]

    async def close(self) -> None:
        return None


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_guarded_connector_blocks_loopback(server_port: int, host: str) -> None:
    async with make_client(AddressPolicy()) as client:
        with pytest.raises(aiohttp.ClientConnectorError) as info:
            await client.post(f"http://{host}:{server_port}/", data=b"hi")
    reason = blocked_reason(info.value)
    assert reason is not None
    assert reason.startswith("refusing to connect to ")
    assert reason.endswith(": loopback address")


async def test_guarded_connector_error_through_plain_aiohttp(server_port: int) -> None:
    async with (
        aiohttp.ClientSession(connector=guarded_connector(AddressPolicy())) as session,
    ):
        with pytest.raises(aiohttp.ClientConnectorError) as info:
            await session.post(f"http://127.0.0.1:{server_port}/")
    assert isinstance(info.value.os_error, BlockedAddressError)
    assert blocked_reason(info.value) == "refusing to connect to 127.0.0.1: loopback address"


async def test_blocked_reason_survives_combined_happy_eyeballs_error(server_port: int) -> None:
    # Both families fail in one attempt, so aiohappyeyeballs raises a fresh
    # "Multiple exceptions" OSError and only the message text remains.
    connector = guarded_connector(AddressPolicy(), resolver=DualStackResolver())
    async with aiohttp.ClientSession(connector=connector) as client:
        with pytest.raises(aiohttp.ClientError) as info:
            await client.post(f"http://dual.test:{server_port}/")
    assert "Multiple exceptions" in str(info.value)
    assert blocked_reason(info.value) == "refusing to connect to ::1: loopback address"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_guarded_connector_allows_allow_listed(server_port: int, host: str) -> None:
    async with (
        make_client(AddressPolicy(["127.0.0.0/8", "::1/128"])) as client,
        client.post(f"http://{host}:{server_port}/", data=b"hi") as response,
    ):
        assert response.status == 200
        assert await response.text() == "ok:hi"
