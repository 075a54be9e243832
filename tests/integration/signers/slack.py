"""Slack: Events API `event_callback`, `v0=<hex HMAC-SHA256(secret, "v0:ts:body")>`."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

from tests.integration.signers import SignedRequest, Signer


def sign(secret: str, url: str, now: int) -> SignedRequest:
    body = json.dumps(
        {
            "token": "XXYYZZ",
            "team_id": "T061EG9R6",
            "api_app_id": "A0PNCHHK2",
            "type": "event_callback",
            "event_id": "Ev" + uuid.uuid4().hex[:10].upper(),
            "event_time": now,
            "event": {"type": "app_mention", "user": "U061F7AUR", "text": "<@U0LAN0Z89> hi"},
        }
    ).encode()
    mac = hmac.new(secret.encode(), f"v0:{now}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": str(now),
        "X-Slack-Signature": f"v0={mac}",
    }
    return SignedRequest(headers=headers, body=body)


SIGNERS = (
    Signer(
        provider="slack",
        secret="8f742231b10e8888abcd99aabbcc85a5",
        sign=sign,
        event_type="app_mention",
    ),
)
