"""HTTP Basic: `Authorization: Basic base64(user:password)`; the source's secret is
`user:password`, the delivery id comes in the header the `id_header` option names."""

from __future__ import annotations

import base64
import json
import uuid

from tests.integration.signers import SignedRequest, Signer


def sign(secret: str, url: str, now: int) -> SignedRequest:
    delivery = str(uuid.uuid4())
    body = json.dumps({"type": "order.created", "order": {"id": delivery}}).encode()
    headers = {
        "Content-Type": "application/json",
        "Authorization": "Basic " + base64.b64encode(secret.encode()).decode(),
        "X-Request-Id": delivery,
    }
    return SignedRequest(headers=headers, body=body)


SIGNERS = (
    Signer(
        provider="basic_auth",
        secret="hookwire:c0rrect-h0rse-battery",
        sign=sign,
        event_type="order.created",
        signs_body=False,
        options={"id_header": "X-Request-Id"},
    ),
)
