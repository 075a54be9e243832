"""Standard Webhooks and Svix: `v1,<base64 HMAC-SHA256(b64decode(whsec_ key), "id.ts.body")>`,
sent with `webhook-*` and `svix-*` headers respectively."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from collections.abc import Callable

from tests.integration.signers import SignedRequest, Signer


def _key(secret: str) -> bytes:
    # a key that is not whsec_ (a forged one in tests) is used as it is
    if secret.startswith("whsec_"):
        return base64.b64decode(secret.removeprefix("whsec_") + "==")
    return secret.encode()


def _signer(prefix: str, event_type: str) -> Callable[[str, str, int], SignedRequest]:
    def sign(secret: str, url: str, now: int) -> SignedRequest:
        msg_id = "msg_" + uuid.uuid4().hex
        body = json.dumps(
            {"type": event_type, "timestamp": now, "data": {"id": uuid.uuid4().hex}}
        ).encode()
        signed = f"{msg_id}.{now}.".encode() + body
        mac = hmac.new(_key(secret), signed, hashlib.sha256).digest()
        headers = {
            "Content-Type": "application/json",
            f"{prefix}-id": msg_id,
            f"{prefix}-timestamp": str(now),
            f"{prefix}-signature": "v1," + base64.b64encode(mac).decode(),
        }
        return SignedRequest(headers=headers, body=body)

    return sign


SIGNERS = (
    Signer(
        provider="standard_webhooks",
        secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        sign=_signer("webhook", "invoice.paid"),
        event_type="invoice.paid",
    ),
    Signer(
        provider="svix",
        secret="whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        sign=_signer("svix", "user.created"),
        event_type="user.created",
    ),
)
