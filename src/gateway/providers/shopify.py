"""Shopify: `X-Shopify-Hmac-Sha256` is the base64 HMAC-SHA256 of the raw body.

Covers app and admin-created webhooks; the topic (`X-Shopify-Topic`) is the event type.
Nothing is timestamped, so replays are caught only by deduplicating on
`X-Shopify-Webhook-Id`. After a secret is rotated Shopify may keep signing with the
old one for up to an hour, which is why the rotation window keeps both.
"""

from __future__ import annotations

from gateway.providers.base import BodySignedProvider, Provider

PROVIDERS: tuple[Provider, ...] = (
    BodySignedProvider(
        name="shopify",
        signature="X-Shopify-Hmac-Sha256",
        encoding="base64",
        type_header="X-Shopify-Topic",
        id_header="X-Shopify-Webhook-Id",
    ),
)
