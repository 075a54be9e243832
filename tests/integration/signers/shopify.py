"""Shopify: `X-Shopify-Hmac-Sha256` = base64 HMAC-SHA256(secret, body); topic as type."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid

from tests.integration.signers import SignedRequest, Signer


def sign(secret: str, url: str, now: int) -> SignedRequest:
    body = json.dumps(
        {"id": uuid.uuid4().int % 10**13, "email": "jon@example.com", "total_price": "10.00"}
    ).encode()
    mac = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    headers = {
        "Content-Type": "application/json",
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Shop-Domain": "example.myshopify.com",
        "X-Shopify-Webhook-Id": str(uuid.uuid4()),
        "X-Shopify-Hmac-Sha256": mac,
    }
    return SignedRequest(headers=headers, body=body)


SIGNERS = (
    Signer(
        provider="shopify",
        secret="shpss_0123456789abcdef0123456789abcdef",
        sign=sign,
        event_type="orders.create",
    ),
)
