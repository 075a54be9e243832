"""Which IP addresses a webhook may never be sent to: the one rule of the SSRF guard.

The gateway applies it to every address it is about to dial (`gateway.address_guard`); the
broker applies it to literal addresses in subscription URLs when they are written
(`broker.blocked_addresses`). Both import it from here, a module of neither, so the rule
exists once and the gateway still imports nothing of the broker.

IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo) are
unwrapped, so `64:ff9b::a9fe:a9fe` is judged as 169.254.169.254.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _table(*rows: tuple[str, str]) -> tuple[tuple[IPNetwork, str], ...]:
    return tuple((ipaddress.ip_network(cidr), reason) for cidr, reason in rows)


# Ordered: specific entries (metadata endpoints) precede their enclosing ranges.
BLOCKED_V4 = _table(
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

BLOCKED_V6 = _table(
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


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
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
    table = BLOCKED_V4 if ip.version == 4 else BLOCKED_V6
    for network, reason in table:
        if ip in network:
            return reason
    return None


def classify_ip(ip: IPAddress) -> str | None:
    """Why `ip` must not be dialled, or None if it is public."""
    reason = _lookup(ip)
    if reason is not None or isinstance(ip, ipaddress.IPv4Address):
        return reason
    for inner in embedded_ipv4(ip):
        reason = _lookup(inner)
        if reason is not None:
            return reason
    if ip in _NAT64_LOCAL and ip not in _NAT64_LOCAL_96:
        # Other RFC 6052 layouts split the IPv4 bits; refuse rather than guess.
        return "local-use NAT64 address"
    if ip in _IPV4_EMBEDDING and not embedded_ipv4(ip):
        return "reserved address"
    return None


def allowed_by(ip: IPAddress, allowed: tuple[IPNetwork, ...]) -> bool:
    """Whether an operator's CIDRs cover `ip` or any IPv4 address embedded in it."""
    if not allowed:
        return False
    candidates: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        candidates.extend(embedded_ipv4(ip))
    return any(c in network for c in candidates for network in allowed)


def parse_cidr(cidr: str) -> IPNetwork:
    try:
        return ipaddress.ip_network(cidr.strip())
    except ValueError:
        raise ValueError(f"invalid CIDR in allow-list: {cidr.strip()!r}") from None


def parse_cidrs(value: str) -> tuple[IPNetwork, ...]:
    """A comma-separated CIDR list (`HOOKWIRE_ALLOWED_CIDRS`), blank entries ignored."""
    return tuple(parse_cidr(entry) for entry in value.split(",") if entry.strip())


REASONS = sorted({reason for _, reason in BLOCKED_V4 + BLOCKED_V6} | {"local-use NAT64 address"})
