"""Twilio: base64 HMAC-SHA1(auth token, url + sorted form params as name+value)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from urllib.parse import urlencode

from tests.integration.signers import SignedRequest, Signer


def sign(secret: str, url: str, now: int) -> SignedRequest:
    sid = "SM" + uuid.uuid4().hex
    params = {
        "AccountSid": "AC" + "0" * 32,
        "Body": "Hello from the end-to-end suite",
        "From": "+14158675310",
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "SmsStatus": "received",
        "To": "+18005551212",
    }
    data = url + "".join(name + params[name] for name in sorted(params))
    mac = hmac.new(secret.encode(), data.encode(), hashlib.sha1).digest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
        "X-Twilio-Signature": base64.b64encode(mac).decode(),
    }
    return SignedRequest(headers=headers, body=urlencode(params).encode())


SIGNERS = (
    Signer(
        provider="twilio",
        secret="9f0c2d4e6a8b1c3d5e7f9a0b2c4d6e8f",
        sign=sign,
        event_type="sms.received",
    ),
)
