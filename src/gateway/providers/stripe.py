"""Stripe: `Stripe-Signature: t=<ts>,v1=<hex>[,v1=<hex>...]` over `"<t>.<raw body>"`.

The key is the whole `whsec_...` string as UTF-8 (Stripe does not base64-decode it,
unlike Standard Webhooks). Stripe sends one `v1` per active endpoint secret during its
own rotations, so any `v1` may match; `v0` entries are test-mode leftovers and ignored.
The signed timestamp bounds replays (300 s, as in Stripe's libraries).
"""

from __future__ import annotations

import re

from gateway.providers.base import (
    Accepted,
    InboundRequest,
    Provider,
    Refused,
    ResolvedSource,
    check_hmac,
    check_timestamp,
    no_challenge,
    tolerance,
)

_TIMESTAMP = re.compile(r"[0-9]{1,15}")
_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


class Stripe:
    """Authenticates Stripe webhook events; `tolerance_seconds` option overrides the window."""

    name = "stripe"
    methods = frozenset({"POST"})
    challenge = staticmethod(no_challenge)

    def authenticate(self, request: InboundRequest, source: ResolvedSource, now: float) -> Accepted:
        timestamp, signatures = _parse(request.header("Stripe-Signature"))
        check_timestamp(timestamp, now, tolerance(source.options))
        signed = timestamp.encode() + b"." + request.body
        check_hmac(signatures, source.secrets, signed)

        event = request.json()
        event_type = event.get("type") if isinstance(event, dict) else None
        if not isinstance(event_type, str) or not event_type:
            raise Refused("event has no type")
        event_id = event.get("id")
        return Accepted(event_type, event_id if isinstance(event_id, str) else "")


def _parse(header: str) -> tuple[str, list[bytes]]:
    """The `t` value and every well-formed `v1` signature of the header."""
    timestamp = ""
    signatures: list[bytes] = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t" and not timestamp:
            timestamp = value
        elif key == "v1" and _HEX_SHA256.fullmatch(value):
            signatures.append(bytes.fromhex(value))
    if not _TIMESTAMP.fullmatch(timestamp):
        raise Refused("malformed signature header")
    if not signatures:
        raise Refused("no v1 signature")
    return timestamp, signatures


PROVIDERS: tuple[Provider, ...] = (Stripe(),)
