"""Shopify: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw body.

Nothing is timestamped, so replays are caught only by deduplicating on
`X-Shopify-Webhook-Id`. After a secret is rotated Shopify may keep signing with the
old one for up to an hour, which is why the rotation window keeps both.
"""

from __future__ import annotations

import base64
import binascii

from gateway.providers.base import (
    Accepted,
    InboundRequest,
    Provider,
    Refused,
    SourceConfig,
    hmac_digest,
    matches_any,
    no_handshake,
    utf8,
)


class Shopify:
    """Verifies Shopify app and admin-created webhooks; the topic is the event type."""

    name = "shopify"
    methods = frozenset({"POST"})
    handshake = staticmethod(no_handshake)

    def verify(self, request: InboundRequest, source: SourceConfig, now: float) -> Accepted:
        presented = _decode(request.header("X-Shopify-Hmac-Sha256"))
        expected = [hmac_digest("sha256", utf8(s), request.body) for s in source.secrets]
        if not matches_any([presented], expected):
            raise Refused("signature mismatch")
        return Accepted(
            event_type=request.header("X-Shopify-Topic"),
            delivery_id=request.headers.get("X-Shopify-Webhook-Id", ""),
        )


def _decode(value: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise Refused("malformed signature header") from None
    if len(raw) != 32:
        raise Refused("malformed signature header")
    return raw


PROVIDERS: tuple[Provider, ...] = (Shopify(),)
