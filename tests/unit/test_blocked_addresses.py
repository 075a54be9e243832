"""The broker's refusal of literal addresses (`broker/blocked_addresses.py`) and the
gateway's guard (`gateway/address_guard.py`) apply one rule (`hookwire.addresses`) to
hosts they read differently. Both run here over one table of host encodings: the broker
reads the URL's host, the gateway judges the address the system resolver turns it into
(without DNS, as it would when dialling a literal), and they must agree, with each other
and the table."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from broker import blocked_addresses as broker_rule
from broker import subscription_rules as rules
from broker.errors import InvalidArgument
from gateway import address_guard as gateway_rule
from hookwire import addresses

# host as written in a URL (without brackets) -> blocked?
ENCODINGS = [
    ("127.0.0.1", True),
    ("2130706433", True),
    ("0x7f000001", True),
    ("0x7F.0.0.1", True),
    ("0177.0.0.1", True),
    ("0177.0000.0000.0001", True),
    ("127.1", True),
    ("127.0.1", True),
    ("10.1", True),
    ("0", True),
    ("169.254.169.254", True),
    ("2852039166", True),  # 169.254.169.254
    ("0xa9.0xfe.0xa9.0xfe", True),
    ("100.64.0.1", True),  # CGNAT
    ("192.168.1.20", True),
    ("172.16.5.4", True),
    ("224.0.0.1", True),
    ("240.0.0.1", True),
    ("255.255.255.255", True),
    ("::1", True),
    ("::", True),
    ("::ffff:127.0.0.1", True),
    ("::ffff:7f00:1", True),
    ("0:0:0:0:0:ffff:127.0.0.1", True),
    ("::ffff:169.254.169.254", True),
    ("::127.0.0.1", True),
    ("64:ff9b::a9fe:a9fe", True),  # NAT64 of the metadata address
    ("64:ff9b::127.0.0.1", True),
    ("64:ff9b:1::a00:1", True),
    ("2002:7f00:1::", True),  # 6to4 of 127.0.0.1
    ("2002:a9fe:a9fe::1", True),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", True),  # Teredo, client 127.0.0.1
    ("fe80::1", True),
    ("fd00::1", True),
    ("fd00:ec2::254", True),
    ("ff02::1", True),
    ("8.8.8.8", False),
    ("134744072", False),  # 8.8.8.8
    ("0x08080808", False),
    ("93.184.216.34", False),
    ("2606:4700:4700::1111", False),
    ("::ffff:8.8.8.8", False),
    ("64:ff9b::808:808", False),
    ("2002:808:808::1", False),
]


def _gateway_verdict(host: str, policy: gateway_rule.AddressPolicy) -> bool:
    """Whether the gateway would refuse every address the resolver reads `host` as."""
    found = socket.getaddrinfo(host, 80, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    verdicts = set()
    for *_, sockaddr in found:
        try:
            policy.check(str(sockaddr[0]))
        except gateway_rule.BlockedAddressError:
            verdicts.add(True)
        else:
            verdicts.add(False)
    assert len(verdicts) == 1, host
    return verdicts.pop()


@pytest.mark.parametrize(("host", "blocked"), ENCODINGS)
def test_the_broker_and_the_gateway_refuse_the_same_literal_hosts(host: str, blocked: bool) -> None:
    assert (broker_rule.blocked_reason(host) is not None) == blocked
    assert _gateway_verdict(host, gateway_rule.AddressPolicy()) == blocked


@pytest.mark.parametrize(("host", "blocked"), ENCODINGS)
def test_the_broker_and_the_gateway_allow_the_same_operator_cidrs(host: str, blocked: bool) -> None:
    cidrs = "127.0.0.0/8,169.254.169.254/32,fe80::/10"
    allowed = broker_rule.parse_cidrs(cidrs)
    broker_allows = broker_rule.blocked_reason(host, allowed) is None
    gateway_allows = not _gateway_verdict(host, gateway_rule.AddressPolicy.from_env_value(cidrs))
    assert broker_allows == gateway_allows
    assert broker_allows or blocked


def _samples() -> list[str]:
    """The edges of every blocked range, their embeddings in IPv6, and public neighbours."""
    found: set[str] = set()
    for network, _ in addresses.BLOCKED_V4 + addresses.BLOCKED_V6:
        for ip in (network.network_address, network.broadcast_address):
            for neighbour in (int(ip) - 1, int(ip), int(ip) + 1):
                if 0 <= neighbour < (1 << network.max_prefixlen):
                    found.add(str(ipaddress.ip_address(neighbour) if ip.version == 6 else
                                  ipaddress.IPv4Address(neighbour)))  # fmt: skip
    for v4 in [s for s in found if "." in s]:
        n = int(ipaddress.IPv4Address(v4))
        found.update({f"::ffff:{v4}", f"64:ff9b::{v4}", f"64:ff9b:1::{v4}"})
        found.add(str(ipaddress.IPv6Address((0x2002 << 112) | (n << 80))))
        teredo = (0x20010000 << 96) | (0x08080808 << 64) | (n ^ 0xFFFFFFFF)
        found.add(str(ipaddress.IPv6Address(teredo)))
    return sorted(found)


def test_the_broker_and_the_gateway_classify_every_range_edge_alike() -> None:
    differ = [
        (host, broker_rule.blocked_reason(host), gateway_rule.classify(host))
        for host in _samples()
        if broker_rule.blocked_reason(host) != gateway_rule.classify(host)
    ]
    assert differ == []


def test_names_are_left_to_the_gateway_which_judges_the_address_it_connects_to() -> None:
    for host in ["localhost", "metadata.google.internal", "example.com", "1.2.3.4.5", "0x"]:
        assert broker_rule.blocked_reason(host) is None, host


@pytest.mark.parametrize(
    "url",
    ["http://2130706433/", "http://0x7f000001/h", "http://0177.0.0.1/", "http://127.1:8080/",
     "http://[::ffff:127.0.0.1]/", "http://[64:ff9b::a9fe:a9fe]/", "http://169.254.169.254/",
     "http://[2002:7f00:1::]/", "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/"],
)  # fmt: skip
def test_a_url_naming_a_blocked_literal_is_refused_on_its_field_as_blocked(url: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        rules.check_destination("subscription.url", url, ())
    assert raised.value.field == "subscription.url"
    assert "blocked" in str(raised.value)


def test_a_blocked_literal_with_an_invalid_port_is_called_blocked_not_invalid() -> None:
    with pytest.raises(InvalidArgument) as raised:
        rules.check_url("subscription.url", "http://0x7f000001:99999/")
    assert "blocked" in str(raised.value)
