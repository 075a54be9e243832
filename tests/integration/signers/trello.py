"""Trello: `X-Trello-Webhook: base64(HMAC-SHA1(secret, body + callback URL))`; the source's
ingest URL is the callback URL it was registered with."""

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
            "model": {"id": uuid.uuid4().hex[:24], "name": "Roadmap"},
            "action": {
                "id": uuid.uuid4().hex[:24],
                "type": "updateCard",
                "date": "2024-01-01T00:00:00.000Z",
                "data": {"card": {"id": uuid.uuid4().hex[:24], "name": "Ship it"}},
            },
        }
    ).encode()
    mac = hmac.new(secret.encode(), body + url.encode(), hashlib.sha1).digest()
    headers = {
        "Content-Type": "application/json",
        "X-Trello-Webhook": base64.b64encode(mac).decode(),
    }
    return SignedRequest(headers=headers, body=body)


SIGNERS = (
    Signer(
        provider="trello",
        secret="b3f1c0d2e4a6987654321fedcba0123456789abcdef0123456789abcdef01234",
        sign=sign,
        event_type="updateCard",
    ),
)
