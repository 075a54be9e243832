"""Pusher: `X-Pusher-Key` names the app, `X-Pusher-Signature` is hex HMAC-SHA256 of the body
under that app's secret; the source's secret is `<app key>:<app secret>`."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

from tests.integration.signers import SignedRequest, Signer


def sign(secret: str, url: str, now: int) -> SignedRequest:
    app_key, _, app_secret = secret.partition(":")
    body = json.dumps(
        {
            "time_ms": now * 1000,
            "events": [{"name": "channel_occupied", "channel": f"presence-{uuid.uuid4()}"}],
        }
    ).encode()
    mac = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Pusher-Key": app_key,
        "X-Pusher-Signature": mac,
    }
    return SignedRequest(headers=headers, body=body)


SIGNERS = (
    Signer(
        provider="pusher",
        secret="278d425bdf160c739803:7ad3773142a6692b25b8",
        sign=sign,
        event_type="channel_occupied",
    ),
)
