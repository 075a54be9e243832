"""SSRF guard for outbound webhooks, enforced on the address actually dialled.

Checking a URL's hostname before the request is not enough: DNS can answer
differently at connect time (rebinding) and literal-IP URLs skip resolvers.
So the check runs inside aiohttp's ``socket_factory``, which receives every
resolved address immediately before the socket for it is created.

IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4,
Teredo) are unwrapped so ``64:ff9b::a9fe:a9fe`` is judged as 169.254.169.254.

The guard only sees the peer the connector dials; when an HTTP proxy is
configured that peer is the proxy, which must then enforce the policy.
"""

from __future__ import annotations

import errno
import ipaddress
import re
import socket
from collections.abc import Iterable, Iterator
from typing import Any

import aiohttp
from aiohappyeyeballs import AddrInfoType

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_MESSAGE_PREFIX = "refusing to connect to "


def _table(*rows: tuple[str, str]) -> tuple[tuple[IPNetwork, str], ...]:
    return tuple((ipaddress.ip_network(cidr), reason) for cidr, reason in rows)


# Ordered: specific entries (metadata endpoints) precede their enclosing ranges.
_BLOCKED_V4 = _table(
    ("169.254.169.254/32", "cloud metadata address"),
    ("100.100.100.200/32", "cloud metadata address"),  # Alibaba Cloud
    ("168.63.129.16/32", "cloud metadata address"),  # Azure WireServer
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
    ("240.0.0.0/4", "reserved address"),  # includes 255.255.255.255 broadcast
)

_BLOCKED_V6 = _table(
    ("::/128", "unspecified address"),
    ("::1/128", "loopback address"),
    ("fd00:ec2::254/128", "cloud metadata address"),  # AWS over IPv6
    ("fc00::/7", "private address"),
    ("fe80::/10", "link-local address"),
    ("fec0::/10", "private address"),  # deprecated site-local
    ("ff00::/8", "multicast address"),
    ("100::/64", "reserved address"),  # discard-only
    ("2001:2::/48", "benchmarking address"),
    ("2001:db8::/32", "documentation address"),
    ("3fff::/20", "documentation address"),
)

_MAPPED = ipaddress.ip_network("::ffff:0:0/96")
_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")  # SIIT
_COMPATIBLE = ipaddress.ip_network("::/96")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_NAT64_LOCAL_96 = ipaddress.ip_network("64:ff9b:1::/96")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_TEREDO = ipaddress.ip_network("2001::/32")
_IPV4_EMBEDDING = ipaddress.ip_network("::/8")

_KNOWN_REASONS = sorted(
    {reason for _, reason in _BLOCKED_V4 + _BLOCKED_V6}
    | {"invalid address", "local-use NAT64 address"}
)
# Recovers the reason when aiohappyeyeballs folds several attempts into one
# plain ``OSError("Multiple exceptions: ...")`` and drops the original objects.
_MESSAGE_RE = re.compile(
    re.escape(_MESSAGE_PREFIX)
    + r"\S+: (?:"
    + "|".join(re.escape(reason) for reason in _KNOWN_REASONS)
    + ")"
)


class BlockedAddressError(OSError):
    """A connection to a forbidden address was refused before it was made.

    It is an ``OSError`` (``EACCES``) so aiohttp treats it like any other
    connect failure and wraps it in ``ClientConnectorError``.
    """

    def __init__(self, address: str, reason: str) -> None:
        super().__init__(errno.EACCES, f"{_MESSAGE_PREFIX}{address}: {reason}")
        self.address = address
        self.reason = reason

    def __str__(self) -> str:
        return str(self.strerror)


def _parse(address: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses a packet to ``ip`` would really reach (empty if none)."""
    low32 = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _MAPPED or ip in _TRANSLATED or ip in _COMPATIBLE or ip in _NAT64:
        return [low32]
    if ip in _NAT64_LOCAL_96:
        return [low32]
    if ip in _SIX_TO_FOUR:
        return [ipaddress.IPv4Address((int(ip) >> 80) & 0xFFFFFFFF)]
    if ip in _TEREDO:
        # Server and obfuscated client; a genuine server is always public.
        server = ipaddress.IPv4Address((int(ip) >> 64) & 0xFFFFFFFF)
        return [ipaddress.IPv4Address(int(low32) ^ 0xFFFFFFFF), server]
    return []


def _lookup(ip: IPAddress) -> str | None:
    table = _BLOCKED_V4 if ip.version == 4 else _BLOCKED_V6
    for network, reason in table:
        if ip in network:
            return reason
    return None


def classify(address: str) -> str | None:
    """Why ``address`` must not be dialled, or ``None`` if it is public.

    Unparseable input is blocked: failing open here would defeat the guard.
    """
    ip = _parse(address)
    if ip is None:
        return "invalid address"
    reason = _lookup(ip)
    if reason is not None or isinstance(ip, ipaddress.IPv4Address):
        return reason
    for inner in _embedded_ipv4(ip):
        reason = _lookup(inner)
        if reason is not None:
            return reason
    if ip in _NAT64_LOCAL and ip not in _NAT64_LOCAL_96:
        # Other RFC 6052 layouts split the IPv4 bits; refuse rather than guess.
        return "local-use NAT64 address"
    if ip in _IPV4_EMBEDDING and not _embedded_ipv4(ip):
        return "reserved address"
    return None


def _parse_cidr(cidr: str) -> IPNetwork:
    try:
        return ipaddress.ip_network(cidr.strip())
    except ValueError:
        raise ValueError(f"invalid CIDR in allow-list: {cidr.strip()!r}") from None


class AddressPolicy:
    """Which peers outbound deliveries may connect to.

    ``allowed_cidrs`` lets an operator reach internal receivers on purpose
    (``HOOKWIRE_ALLOWED_CIDRS``); it is matched against the raw address and
    any IPv4 address embedded in it.
    """

    def __init__(self, allowed_cidrs: Iterable[str] = ()) -> None:
        self.allowed: tuple[IPNetwork, ...] = tuple(_parse_cidr(cidr) for cidr in allowed_cidrs)

    @classmethod
    def from_env_value(cls, value: str) -> AddressPolicy:
        """Parse a comma-separated CIDR list, ignoring blank entries."""
        return cls(entry for entry in value.split(",") if entry.strip())

    def _is_allowed(self, address: str) -> bool:
        ip = _parse(address)
        if ip is None or not self.allowed:
            return False
        candidates: list[IPAddress] = [ip]
        if isinstance(ip, ipaddress.IPv6Address):
            candidates.extend(_embedded_ipv4(ip))
        return any(c in network for c in candidates for network in self.allowed)

    def check(self, address: str) -> None:
        """Raise ``BlockedAddressError`` unless ``address`` may be dialled."""
        if self._is_allowed(address):
            return
        reason = classify(address)
        if reason is not None:
            raise BlockedAddressError(address, reason)


def guarded_connector(policy: AddressPolicy, **connector_kwargs: Any) -> aiohttp.TCPConnector:
    """A ``TCPConnector`` that refuses sockets to addresses ``policy`` blocks.

    A caller-supplied ``socket_factory`` still runs, after the check.
    """
    inner = connector_kwargs.pop("socket_factory", None)

    def socket_factory(addr_info: AddrInfoType) -> socket.socket:
        family, type_, proto, _, sockaddr = addr_info
        policy.check(str(sockaddr[0]))
        if inner is not None:
            created: socket.socket = inner(addr_info)
            return created
        return socket.socket(family=family, type=type_, proto=proto)

    return aiohttp.TCPConnector(socket_factory=socket_factory, **connector_kwargs)


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """Every exception reachable via causes, contexts and aiohttp's os_error."""
    pending: list[BaseException] = [exc]
    seen: set[int] = set()
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        for linked in (
            current.__cause__,
            current.__context__,
            getattr(current, "os_error", None),
        ):
            if isinstance(linked, BaseException):
                pending.append(linked)


def blocked_reason(exc: BaseException) -> str | None:
    """The guard's refusal message behind ``exc``, or ``None``.

    Works on httpx errors (``httpx.ConnectError`` raised from aiohttp's
    ``ClientConnectorError``) and on aiohttp errors directly. When a host
    resolved to several blocked addresses, aiohappyeyeballs replaces the
    ``BlockedAddressError`` objects with one combined ``OSError``, so the
    message text is searched as a fallback.
    """
    for current in _chain(exc):
        if isinstance(current, BlockedAddressError):
            return str(current)
    for current in _chain(exc):
        match = _MESSAGE_RE.search(str(current))
        if match is not None:
            return match.group(0)
    return None
