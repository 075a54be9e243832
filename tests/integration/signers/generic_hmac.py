"""Generic HMAC, configured like a typical sender: `X-Signature: sha256=<hex HMAC-SHA256(
secret, "<timestamp>.<body>")>` with `X-Timestamp` and `X-Delivery-Id`."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

from tests.integration.signers import SignedRequest, Signer


def sign(secret: str, url: str, now: int) -> SignedRequest:
    delivery = str(uuid.uuid4())
    body = json.dumps({"type": "invoice.paid", "id": delivery, "amount": 4200}).encode()
    mac = hmac.new(secret.encode(), f"{now}.".encode() + body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Signature": f"sha256={mac}",
        "X-Timestamp": str(now),
        "X-Delivery-Id": delivery,
    }
    return SignedRequest(headers=headers, body=body)


SIGNERS = (
    Signer(
        provider="hmac",
        secret="generic-hmac-secret-0123456789abcdef",
        sign=sign,
        event_type="invoice.paid",
        options={
            "header": "X-Signature",
            "prefix": "sha256=",
            "timestamp_header": "X-Timestamp",
            "template": "{timestamp}.{body}",
            "id_header": "X-Delivery-Id",
        },
    ),
)
