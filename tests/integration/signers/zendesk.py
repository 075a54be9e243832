"""Zendesk: `X-Zendesk-Webhook-Signature: base64(HMAC-SHA256(secret, timestamp + body))`,
the timestamp sent in ISO-8601 as Zendesk documents it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime

from tests.integration.signers import SignedRequest, Signer


def sign(secret: str, url: str, now: int) -> SignedRequest:
    timestamp = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = json.dumps(
        {
            "type": "zen:event-type:ticket.created",
            "account_id": 10001,
            "id": str(uuid.uuid4()),
            "time": timestamp,
            "zendesk_event_version": "2022-11-06",
            "subject": "zen:ticket:42",
            "detail": {"id": "42", "subject": "Printer on fire"},
            "event": {},
        }
    ).encode()
    mac = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    headers = {
        "Content-Type": "application/json",
        "X-Zendesk-Webhook-Signature": base64.b64encode(mac).decode(),
        "X-Zendesk-Webhook-Signature-Timestamp": timestamp,
        "X-Zendesk-Webhook-Invocation-Id": str(uuid.uuid4()),
    }
    return SignedRequest(headers=headers, body=body)


SIGNERS = (
    Signer(
        provider="zendesk",
        secret="dGhpc19pc196ZW5kZXNrX3NpZ25pbmdfc2VjcmV0",
        sign=sign,
        event_type="zen.event-type.ticket.created",
    ),
)
