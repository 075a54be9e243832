"""Mailchimp and WordPress (ASP.NET WebHooks style): no signature, the secret travels as
`?code=<secret>`; both post forms and send no delivery id."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

from tests.integration.signers import SignedRequest, Signer

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def sign_mailchimp(secret: str, url: str, now: int) -> SignedRequest:
    body = urlencode(
        {
            "type": "subscribe",
            "fired_at": "2024-01-01 00:00:00",
            "data[id]": uuid.uuid4().hex[:10],
            "data[list_id]": "a6b5da1054",
            "data[email]": f"{uuid.uuid4().hex[:8]}@example.com",
            "data[merges][FNAME]": "Ada",
        }
    ).encode()
    return SignedRequest(headers=FORM, body=body, query={"code": secret})


def sign_wordpress(secret: str, url: str, now: int) -> SignedRequest:
    body = urlencode(
        {"hook": "publish_post", "ID": str(uuid.uuid4().int % 100000), "post_title": "Hello"}
    ).encode()
    return SignedRequest(headers=FORM, body=body, query={"code": secret})


SIGNERS = (
    Signer(
        provider="mailchimp",
        secret="3b9c1e7f2a4d6b8c0e1f3a5c7e9b1d3f",
        sign=sign_mailchimp,
        event_type="subscribe",
        signs_body=False,
        has_delivery_id=False,
    ),
    Signer(
        provider="wordpress",
        secret="7e1d9c3b5a0f2e4d6c8b0a1f3e5d7c9b",
        sign=sign_wordpress,
        event_type="publish_post",
        signs_body=False,
        has_delivery_id=False,
    ),
)
