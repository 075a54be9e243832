"""Which literal IP addresses a subscription URL may not name.

A webhook URL whose host is a literal loopback, private or metadata address can only be an
attempt to reach the inside of the network (or a mistake), so it is refused when the
subscription is written rather than on every delivery. Host names are not resolved here:
the broker makes no outbound calls, and the gateway's guard judges the address it actually
connects to (`gateway/address_guard.py`). Both apply the one rule of `hookwire.addresses`;
what is the broker's own is reading a URL's host as a literal address, and
`tests/unit/test_blocked_addresses.py` runs both over one table of encodings.

A literal is whatever a resolver reads as an address without asking DNS: IPv6 in brackets,
and IPv4 in every form `inet_aton` accepts (`2130706433`, `0x7f000001`, `0177.0.0.1`,
`127.1`), which is how such a URL would be dialled. A fully qualified `127.0.0.1.` is
read as the literal too: refusing it costs nothing, and some URL parsers do the same.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

from hookwire.addresses import IPAddress, IPNetwork, allowed_by, classify_ip, parse_cidrs

__all__ = ["IPNetwork", "blocked_reason", "literal_address", "parse_cidrs"]

# One part of an inet_aton IPv4 literal: hexadecimal, octal or decimal.
_PART = re.compile(r"0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*")


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


def blocked_reason(host: str, allowed: Iterable[IPNetwork] = ()) -> str | None:
    """Why a URL with this hostname is refused, or None: a name, a public address, or an
    address inside an operator's allowed CIDRs (matched as the gateway matches them, on
    the address and any IPv4 address embedded in it)."""
    ip = literal_address(host)
    if ip is None or allowed_by(ip, tuple(allowed)):
        return None
    return classify_ip(ip)
