"""What a valid subscription looks like; each check names the field it rejects."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

from broker.blocked_addresses import IPNetwork, blocked_reason
from broker.credentials import hmac_secret_key
from broker.errors import InvalidArgument
from broker.patterns import pattern_problem

MAX_URL_LENGTH = 2048
MAX_SCHEDULE_STEPS = 20
MAX_SCHEDULE_DELAY = 7 * 86400.0

HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Headers the gateway owns: transport framing, hop-by-hop, and the signature scheme.
RESERVED_HEADERS = frozenset(
    {
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
        "te", "trailer", "trailers", "transfer-encoding", "upgrade", "host", "content-length",
        "content-type", "content-encoding", "user-agent", "webhook-id", "webhook-timestamp",
        "webhook-signature",
    }
)  # fmt: skip
# Envelope fields that `properties` may not shadow.
RESERVED_PROPERTIES = frozenset(
    {
        "id",
        "type",
        "timestamp",
        "data",
        "content_type",
        "data_url",
        "subscription_id",
        "client_state",
    }
)


def check_url(field: str, url: str) -> str:
    if not url:
        raise InvalidArgument(field, "must not be empty")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidArgument(field, f"must be at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        reason = blocked_reason(_written_host(url))
        if reason is not None:
            raise InvalidArgument(field, _blocked(reason)) from None
        raise InvalidArgument(field, "is not a valid URL") from None
    del port
    if parts.scheme not in ("http", "https"):
        raise InvalidArgument(field, "must be an http or https URL")
    if not parts.hostname:
        raise InvalidArgument(field, "must name a host")
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise InvalidArgument(field, "must not contain credentials; use headers instead")
    if parts.fragment:
        raise InvalidArgument(field, "must not contain a fragment")
    if any(c.isspace() for c in url):
        raise InvalidArgument(field, "must not contain white space")
    return url


def check_destination(field: str, url: str, allowed: Iterable[IPNetwork]) -> None:
    """Refuse a URL whose host is a literal address the gateway would never connect to.

    Only subscriptions without a handshake need this: a handshake goes through the gateway's
    guard and fails there. Host names are left to that guard, which judges the address the
    name resolves to when the gateway connects.
    """
    reason = blocked_reason(urlsplit(url).hostname or "", allowed)
    if reason is not None:
        raise InvalidArgument(field, _blocked(reason))


def _blocked(reason: str) -> str:
    return f"is blocked: its host is a {reason} (operators allow one with HOOKWIRE_ALLOWED_CIDRS)"


def _written_host(url: str) -> str:
    """The host of a URL `urlsplit` refused (a bad port, say), as written, without brackets."""
    authority = re.split(r"[/?#]", url.partition("//")[2], maxsplit=1)[0].rpartition("@")[2]
    if authority.startswith("["):
        return authority[1:].partition("]")[0]
    return authority.partition(":")[0]


def check_patterns(field: str, patterns: Sequence[str]) -> list[str]:
    if not patterns:
        raise InvalidArgument(field, "must list at least one pattern (use '*' for all)")
    for pattern in patterns:
        problem = pattern_problem(pattern)
        if problem:
            raise InvalidArgument(field, problem)
    return sorted(set(patterns))


def check_headers(field: str, headers: dict[str, str]) -> dict[str, str]:
    for name, value in headers.items():
        if not HEADER_NAME.fullmatch(name):
            raise InvalidArgument(field, f"{name[:64]!r} is not a valid header name")
        if name.lower() in RESERVED_HEADERS:
            raise InvalidArgument(field, f"{name!r} is set by the gateway and cannot be overridden")
        if any(c in value for c in "\r\n\0"):
            raise InvalidArgument(field, f"value of {name!r} contains a control character")
    return dict(headers)


def check_properties(field: str, properties: dict[str, str]) -> dict[str, str]:
    for key in properties:
        if not key or key in RESERVED_PROPERTIES:
            raise InvalidArgument(field, f"{key!r} is reserved for the envelope")
    return dict(properties)


def check_secret(field: str, secret: str) -> str:
    """A `whsec_` secret of 24-64 random bytes, base64-encoded."""
    try:
        hmac_secret_key(secret)
    except ValueError as exc:
        raise InvalidArgument(field, str(exc)) from None
    return secret


def check_schedule(field: str, schedule: Sequence[float]) -> list[float]:
    if len(schedule) > MAX_SCHEDULE_STEPS:
        raise InvalidArgument(field, f"at most {MAX_SCHEDULE_STEPS} steps")
    for delay in schedule:
        if not 0 <= delay <= MAX_SCHEDULE_DELAY:
            raise InvalidArgument(field, "each delay must be between 0 and 7 days")
    return list(schedule)


def check_text(field: str, value: str, limit: int) -> str:
    if len(value) > limit:
        raise InvalidArgument(field, f"must be at most {limit} characters")
    return value
