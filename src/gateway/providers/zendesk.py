"""Zendesk: HMAC-SHA256 over the timestamp header followed by the body, base64.

The timestamp is signed exactly as sent; Zendesk documents it as ISO-8601 while older
senders use unix seconds, so both are read for the freshness check. Trigger webhooks
carry bodies the customer designed, so a body without a `type` still passes.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from gateway.providers.base import (
    Accepted,
    InboundRequest,
    Provider,
    Refused,
    ResolvedSource,
    check_hmac,
    check_timestamp,
    decode_signature,
    no_challenge,
    tolerance,
    utf8,
)

INVOCATION_ID = "X-Zendesk-Webhook-Invocation-Id"


class Zendesk:
    name = "zendesk"
    methods = frozenset({"POST"})

    challenge = staticmethod(no_challenge)

    def authenticate(self, request: InboundRequest, source: ResolvedSource, now: float) -> Accepted:
        signature = request.header("X-Zendesk-Webhook-Signature")
        timestamp = request.header("X-Zendesk-Webhook-Signature-Timestamp")
        check_timestamp(unix_seconds(timestamp), now, tolerance(source.options))
        presented = decode_signature(signature, "base64")
        signed = utf8(timestamp) + request.body
        check_hmac([presented], source.secrets, signed)
        return Accepted(event_type(request.body), request.headers.get(INVOCATION_ID, ""))


def unix_seconds(timestamp: str) -> str:
    """The timestamp as unix-seconds digits, from either form Zendesk sends."""
    if not timestamp.isascii() or len(timestamp) > 40:
        raise Refused("malformed timestamp")
    if timestamp.isdigit():
        return timestamp
    try:
        moment = datetime.fromisoformat(timestamp)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return str(max(0, int(moment.timestamp())))
    except (ValueError, OverflowError):
        raise Refused("malformed timestamp") from None


def event_type(body: bytes) -> str:
    """An event subscription's `type`, or `event` for a trigger's free-form body."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return "event"
    kind = document.get("type") if isinstance(document, dict) else None
    return kind if isinstance(kind, str) and kind else "event"


PROVIDERS: tuple[Provider, ...] = (Zendesk(),)
