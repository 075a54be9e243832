"""GitHub: hex HMAC-SHA256 of the body in `X-Hub-Signature-256`, event and action."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

from tests.integration.signers import SignedRequest, Signer


def sign(secret: str, url: str, now: int) -> SignedRequest:
    body = json.dumps(
        {"action": "opened", "number": now % 1000, "pull_request": {"id": uuid.uuid4().int % 10**9}}
    ).encode()
    mac = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/abc123",
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": f"sha256={mac}",
    }
    return SignedRequest(headers=headers, body=body)


SIGNERS = (
    Signer(
        provider="github",
        secret="gh-webhook-secret-0123456789",
        sign=sign,
        event_type="pull_request.opened",
    ),
)
