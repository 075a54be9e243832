"""Which literal IP addresses a subscription URL may not name.

A webhook URL whose host is a literal loopback, private or metadata address can only be an
attempt to reach the inside of the network (or a mistake), so it is refused when the
subscription is written rather than on every delivery. Host names are not resolved here:
the broker makes no outbound calls, and the gateway's guard judges the address it actually
connects to (`gateway/address_guard.py`). This is that guard's rule, restated for
literals, because the broker may not import the gateway; `tests/unit/test_blocked_addresses.py`
runs both over one table so the two copies cannot drift apart.

A literal is whatever a resolver reads as an address without asking DNS: IPv6 in brackets,
and IPv4 in every form `inet_aton` accepts (`2130706433`, `0x7f000001`, `0177.0.0.1`,
`127.1`), which is how such a URL would be dialled. A fully qualified `127.0.0.1.` is
read as the literal too: refusing it costs nothing, and some URL parsers do the same.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _table(*rows: tuple[str, str]) -> tuple[tuple[IPNetwork, str], ...]:
    return tuple((ipaddress.ip_network(cidr), reason) for cidr, reason in rows)


# Ordered: specific entries (metadata endpoints) precede their enclosing ranges.
BLOCKED_V4 = _table(
    ("169.254.169.254/32", "cloud metadata address"),
    ("100.100.100.200/32", "cloud metadata address"),
    ("168.63.129.16/32", "cloud metadata address"),
    ("0.0.0.0/8", "unspecified address"),
    ("10.0.0.0/8", "private address"),
    ("100.64.0.0/10", "carrier-grade NAT address"),
    ("127.0.0.0/8", "loopback address"),
    ("169.254.0.0/16", "link-local address"),
    ("172.16.0.0/12", "private address"),
    ("192.0.0.0/24", "reserved address"),
    ("192.0.2.0/24", "documentation address"),
    ("192.88.99.0/24", "reserved address"),
    ("192.168.0.0/16", "private address"),
    ("198.18.0.0/15", "benchmarking address"),
    ("198.51.100.0/24", "documentation address"),
    ("203.0.113.0/24", "documentation address"),
    ("224.0.0.0/4", "multicast address"),
    ("240.0.0.0/4", "reserved address"),
)

BLOCKED_V6 = _table(
    ("::/128", "unspecified address"),
    ("::1/128", "loopback address"),
    ("fd00:ec2::254/128", "cloud metadata address"),
    ("fc00::/7", "private address"),
    ("fe80::/10", "link-local address"),
    ("fec0::/10", "private address"),
    ("ff00::/8", "multicast address"),
    ("100::/64", "reserved address"),
    ("2001:2::/48", "benchmarking address"),
    ("2001:db8::/32", "documentation address"),
    ("3fff::/20", "documentation address"),
)

_MAPPED = ipaddress.ip_network("::ffff:0:0/96")
_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")
_COMPATIBLE = ipaddress.ip_network("::/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_NAT64_LOCAL_96 = ipaddress.ip_network("64:ff9b:1::/96")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_TEREDO = ipaddress.ip_network("2001::/32")
_IPV4_EMBEDDING = ipaddress.ip_network("::/8")

# One part of an inet_aton IPv4 literal: hexadecimal, octal or decimal.
_PART = re.compile(r"0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*")


def parse_cidrs(value: str) -> tuple[IPNetwork, ...]:
    """A comma-separated CIDR list (`HOOKWIRE_ALLOWED_CIDRS`), blank entries ignored."""
    networks: list[IPNetwork] = []
    for entry in value.split(","):
        if not entry.strip():
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip()))
        except ValueError:
            raise ValueError(f"invalid CIDR in allow-list: {entry.strip()!r}") from None
    return tuple(networks)


def _ipv4_literal(host: str) -> ipaddress.IPv4Address | None:
    """`host` read as `inet_aton` reads it: one to four parts, the last filling the rest."""
    parts = host.split(".")
    if len(parts) > 4 or not all(_PART.fullmatch(part) for part in parts):
        return None
    numbers = [_number(part) for part in parts]
    *leading, last = numbers
    if any(n > 0xFF for n in leading) or last >= 1 << (8 * (5 - len(numbers))):
        return None
    value = last
    for index, number in enumerate(leading):
        value |= number << (8 * (3 - index))
    return ipaddress.IPv4Address(value)


def _number(part: str) -> int:
    if part[:2].lower() == "0x":
        return int(part[2:], 16)
    return int(part, 8) if part.startswith("0") else int(part)


def literal_address(host: str) -> IPAddress | None:
    """The address `host` (a URL's hostname, without brackets) names literally, or None
    for a name that only DNS can turn into an address."""
    if ":" in host:
        try:
            return ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return None
    return _ipv4_literal(host[:-1] if host.endswith(".") else host)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses a packet to `ip` would really reach (empty if none)."""
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _MAPPED or ip in _TRANSLATED or ip in _COMPATIBLE or ip in _NAT64:
        return [low32]
    if ip in _NAT64_LOCAL_96:
        return [low32]
    if ip in _SIX_TO_FOUR:
        return [ipaddress.IPv4Address((int(ip) >> 80) & 0xFFFFFFFF)]
    if ip in _TEREDO:
        server = ipaddress.IPv4Address((int(ip) >> 64) & 0xFFFFFFFF)
        return [ipaddress.IPv4Address(int(low32) ^ 0xFFFFFFFF), server]
    return []


def _lookup(ip: IPAddress) -> str | None:
    for network, reason in BLOCKED_V4 if ip.version == 4 else BLOCKED_V6:
        if ip in network:
            return reason
    return None


def classify(ip: IPAddress) -> str | None:
    """Why `ip` must not be dialled, or None if it is public."""
    reason = _lookup(ip)
    if reason is not None or isinstance(ip, ipaddress.IPv4Address):
        return reason
    for inner in _embedded_ipv4(ip):
        reason = _lookup(inner)
        if reason is not None:
            return reason
    if ip in _NAT64_LOCAL and ip not in _NAT64_LOCAL_96:
        return "local-use NAT64 address"
    if ip in _IPV4_EMBEDDING and not _embedded_ipv4(ip):
        return "reserved address"
    return None


def blocked_reason(host: str, allowed: Iterable[IPNetwork] = ()) -> str | None:
    """Why a URL with this hostname is refused, or None: a name, a public address, or an
    address inside an operator's allowed CIDRs (matched as the gateway matches them, on
    the address and any IPv4 address embedded in it)."""
    ip = literal_address(host)
    if ip is None:
        return None
    candidates: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        candidates.extend(_embedded_ipv4(ip))
    if any(candidate in network for candidate in candidates for network in allowed):
        return None
    return classify(ip)
