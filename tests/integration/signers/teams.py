"""Microsoft Teams outgoing webhook: `Authorization: HMAC <base64(HMAC-SHA256(
base64decode(security token), body))>`; the source's secret is the base64 token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid

from tests.integration.signers import SignedRequest, Signer


def sign(secret: str, url: str, now: int) -> SignedRequest:
    body = json.dumps(
        {
            "type": "message",
            "id": str(uuid.uuid4().int)[:13],
            "timestamp": "2024-01-01T00:00:00.000Z",
            "text": "<at>Hookwire</at> deploy staging",
            "from": {"id": "29:" + uuid.uuid4().hex, "name": "Ada Lovelace"},
            "conversation": {"id": "19:" + uuid.uuid4().hex + "@thread.skype"},
        }
    ).encode()
    mac = hmac.new(base64.b64decode(secret), body, hashlib.sha256).digest()
    headers = {
        "Content-Type": "application/json",
        "Authorization": "HMAC " + base64.b64encode(mac).decode(),
    }
    return SignedRequest(headers=headers, body=body)


SIGNERS = (
    Signer(
        provider="teams",
        # No padding, so the reversed token of the forgery test is still base64.
        secret="q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJCr",
        sign=sign,
        event_type="message",
    ),
)
