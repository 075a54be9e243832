"""Trello provider: the PROTOCOLS vector, the HEAD challenge, callback URL and refusals."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from gateway.providers.base import InboundRequest, Refused, Reply, ResolvedSource
from gateway.providers.trello import PROVIDERS
from tests.support.inbound import inbound_request, resolved_source

PROVIDER = PROVIDERS[0]
SECRET = "trello_secret"
URL = "https://example.com/trello/hook"
VECTOR_BODY = b'{"id":"evt_1","type":"test"}'
VECTOR = "2nlLgdO/+Yo/hGyjcVc0FcvTGjo="
BODY = json.dumps(
    {
        "action": {"id": "5f2b8c1e9a1d2c0012345678", "type": "updateCard", "data": {}},
        "model": {"id": "5f2b8c1e9a1d2c0000000001", "name": "Board"},
    }
).encode()
GARBAGE = ["!!!", "é", "\udcff", "AAAA=", "====", "a" * 1000, "sha1=abc"]


def sign(secret: str, body: bytes, url: str = URL) -> str:
    mac = hmac.new(secret.encode(), body + url.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


def request(signature: str | None, body: bytes = BODY, method: str = "POST") -> InboundRequest:
    headers = {} if signature is None else {"X-Trello-Webhook": signature}
    return inbound_request(headers, body, method=method, url=URL)


def source(*secrets: str, **options: str) -> ResolvedSource:
    return resolved_source("trello", *(secrets or (SECRET,)), options=options, ingest_url=URL)


def test_protocols_vector() -> None:
    assert sign(SECRET, VECTOR_BODY) == VECTOR
    # The vector's body is no Trello action: the signature passes, the body is then refused.
    with pytest.raises(Refused, match="no action type"):
        PROVIDER.authenticate(request(VECTOR, VECTOR_BODY), source(), 0)
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(request(VECTOR, VECTOR_BODY + b" "), source(), 0)


def test_accepts_action_with_type_and_id() -> None:
    accepted = PROVIDER.authenticate(request(sign(SECRET, BODY)), source(), 0)
    assert accepted.event_type == "updateCard"
    assert accepted.delivery_id == "5f2b8c1e9a1d2c0012345678"
    assert accepted.publish and accepted.reply is None
    assert PROVIDER.name == "trello"
    assert PROVIDER.methods == frozenset({"HEAD", "POST"})


def test_head_is_answered_unsigned_and_post_is_not() -> None:
    assert PROVIDER.challenge(request(None, b"", "HEAD"), source()) == Reply(200)
    assert PROVIDER.challenge(request(None), source()) is None


def test_callback_url_option_is_what_is_signed() -> None:
    registered = "https://proxy.example.net/trello"
    configured = source(callback_url=registered)
    accepted = PROVIDER.authenticate(request(sign(SECRET, BODY, registered)), configured, 0)
    assert accepted.event_type == "updateCard"
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(request(sign(SECRET, BODY)), configured, 0)


def test_tampered_body_refused() -> None:
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(
            request(sign(SECRET, BODY), BODY.replace(b"updateCard", b"deleteCard")), source(), 0
        )


def test_wrong_secret_refused() -> None:
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(request(sign("other_secret", BODY)), source(), 0)


def test_any_current_secret_accepted_during_rotation() -> None:
    rotating = source("new_secret", SECRET)
    assert (
        PROVIDER.authenticate(request(sign(SECRET, BODY)), rotating, 0).event_type == "updateCard"
    )
    assert (
        PROVIDER.authenticate(request(sign("new_secret", BODY)), rotating, 0).event_type
        == "updateCard"
    )


def test_missing_header_refused() -> None:
    with pytest.raises(Refused, match="missing X-Trello-Webhook header"):
        PROVIDER.authenticate(request(None), source(), 0)


@pytest.mark.parametrize("value", GARBAGE)
def test_garbage_signature_only_refused(value: str) -> None:
    with pytest.raises(Refused) as refused:
        PROVIDER.authenticate(request(value), source(), 0)
    assert value not in refused.value.reason and SECRET not in refused.value.reason
