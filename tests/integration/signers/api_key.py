"""API key: the key in `X-API-Key` (the default header); type and delivery id in the
headers the `event_type_header` and `id_header` options name."""

from __future__ import annotations

import json
import uuid

from tests.integration.signers import SignedRequest, Signer


def sign(secret: str, url: str, now: int) -> SignedRequest:
    delivery = str(uuid.uuid4())
    body = json.dumps({"user": {"id": delivery, "email": "ada@example.com"}}).encode()
    headers = {
        "Content-Type": "application/json",
        "X-API-Key": secret,
        "X-Event-Type": "user/signed_up",
        "X-Event-Id": delivery,
    }
    return SignedRequest(headers=headers, body=body)


SIGNERS = (
    Signer(
        provider="api_key",
        secret="hwk_live_8f2c1d9e7b6a5f4e3d2c1b0a",
        sign=sign,
        event_type="user.signed_up",
        signs_body=False,
        options={"event_type_header": "X-Event-Type", "id_header": "X-Event-Id"},
    ),
)
