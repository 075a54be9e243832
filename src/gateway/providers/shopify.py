"""Shopify: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw body.

Nothing is timestamped, so replays are caught only by deduplicating on
`X-Shopify-Webhook-Id`. After a secret is rotated Shopify may keep signing with the
old one for up to an hour, which is why the rotation window keeps both.
"""

from __future__ import annotations

from gateway.providers.base import (
    Accepted,
    InboundRequest,
    Provider,
    SourceConfig,
    check_body_hmac,
    no_handshake,
)


class Shopify:
    """Verifies Shopify app and admin-created webhooks; the topic is the event type."""

    name = "shopify"
    methods = frozenset({"POST"})
    handshake = staticmethod(no_handshake)

    def verify(self, request: InboundRequest, source: SourceConfig, now: float) -> Accepted:
        check_body_hmac(request, source, "X-Shopify-Hmac-Sha256", encoding="base64")
        return Accepted(
            event_type=request.header("X-Shopify-Topic"),
            delivery_id=request.headers.get("X-Shopify-Webhook-Id", ""),
        )


PROVIDERS: tuple[Provider, ...] = (Shopify(),)
