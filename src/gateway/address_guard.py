"""SSRF guard for outbound webhooks, enforced on the address actually dialled.

Checking a URL's hostname before the request is not enough: DNS can answer
differently at connect time (rebinding) and literal-IP URLs skip resolvers.
So the check runs inside aiohttp's ``socket_factory``, which receives every
resolved address immediately before the socket for it is created.

Which addresses are refused is `hookwire.addresses`, shared with the broker's
check of literal addresses in subscription URLs.

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

from hookwire.addresses import (
    REASONS,
    IPAddress,
    IPNetwork,
    allowed_by,
    classify_ip,
    parse_cidr,
)

_MESSAGE_PREFIX = "refusing to connect to "


_KNOWN_REASONS = [*REASONS, "invalid address"]
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


def classify(address: str) -> str | None:
    """Why ``address`` must not be dialled, or ``None`` if it is public.

    Unparseable input is blocked: failing open here would defeat the guard.
    """
    ip = _parse(address)
    return "invalid address" if ip is None else classify_ip(ip)


class AddressPolicy:
    """Which peers outbound deliveries may connect to.

    ``allowed_cidrs`` lets an operator reach internal receivers on purpose
    (``HOOKWIRE_ALLOWED_CIDRS``); it is matched against the raw address and
    any IPv4 address embedded in it.
    """

    def __init__(self, allowed_cidrs: Iterable[str] = ()) -> None:
        self.allowed: tuple[IPNetwork, ...] = tuple(parse_cidr(cidr) for cidr in allowed_cidrs)

    @classmethod
    def from_env_value(cls, value: str) -> AddressPolicy:
        """Parse a comma-separated CIDR list, ignoring blank entries."""
        return cls(entry for entry in value.split(",") if entry.strip())

    def _is_allowed(self, address: str) -> bool:
        ip = _parse(address)
        return ip is not None and allowed_by(ip, self.allowed)

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
