"""Dropbox: `X-Dropbox-Signature` = hex HMAC-SHA256(app secret, body); no delivery id."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

from tests.integration.signers import SignedRequest, Signer


def sign(secret: str, url: str, now: int) -> SignedRequest:
    account = "dbid:" + uuid.uuid4().hex
    body = json.dumps(
        {"list_folder": {"accounts": [account]}, "delta": {"users": [now % 10**6]}}
    ).encode()
    mac = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Dropbox-Signature": mac}
    return SignedRequest(headers=headers, body=body)


SIGNERS = (
    Signer(
        provider="dropbox",
        secret="q2w3e4r5t6y7u8i",
        sign=sign,
        event_type="list_folder",
        has_delivery_id=False,
    ),
)
