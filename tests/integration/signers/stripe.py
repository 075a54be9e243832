"""Stripe: `Stripe-Signature: t=<ts>,v1=<hex HMAC-SHA256(whsec_ string, "t.body")>`."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

from tests.integration.signers import SignedRequest, Signer


def sign(secret: str, url: str, now: int) -> SignedRequest:
    event_id = "evt_" + uuid.uuid4().hex[:24]
    body = json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": "payment_intent.succeeded",
            "created": now,
            "data": {"object": {"id": "pi_" + uuid.uuid4().hex[:24], "amount": 2000}},
        }
    ).encode()
    mac = hmac.new(secret.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "Stripe-Signature": f"t={now},v1={mac}"}
    return SignedRequest(headers=headers, body=body)


SIGNERS = (
    Signer(
        provider="stripe",
        secret="whsec_4eC39HqLyjWDarjtT1zdp7dc0123abcd",
        sign=sign,
        event_type="payment_intent.succeeded",
    ),
)
