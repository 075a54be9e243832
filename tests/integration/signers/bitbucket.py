"""Bitbucket Cloud: `X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, body)>`."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid

from tests.integration.signers import SignedRequest, Signer


def sign(secret: str, url: str, now: int) -> SignedRequest:
    body = json.dumps(
        {
            "repository": {"full_name": "team/repo", "uuid": "{" + str(uuid.uuid4()) + "}"},
            "push": {"changes": [{"new": {"name": "main", "type": "branch"}}]},
        }
    ).encode()
    mac = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Event-Key": "repo:push",
        "X-Hook-UUID": str(uuid.uuid4()),
        "X-Request-UUID": str(uuid.uuid4()),
        "X-Hub-Signature": f"sha256={mac}",
    }
    return SignedRequest(headers=headers, body=body)


SIGNERS = (
    Signer(
        provider="bitbucket",
        secret="bb-webhook-secret-0123456789",
        sign=sign,
        event_type="repo.push",
    ),
)
