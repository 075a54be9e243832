"""Slack provider: the official vector, the three body shapes, the challenge and refusals."""

from __future__ import annotations

import hashlib
import hmac
import json
from urllib.parse import urlencode

import pytest

from gateway.providers.base import InboundRequest, Refused, Reply, ResolvedSource
from gateway.providers.slack import PROVIDERS
from tests.support.inbound import inbound_request, resolved_source

PROVIDER = PROVIDERS[0]
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
TS = 1531420618
OFFICIAL_BODY = (
    b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow"
    b"&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner"
    b"&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands"
    b"%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
    b"&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
)
OFFICIAL_SIG = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
FORM = "application/x-www-form-urlencoded"
EVENT = json.dumps(
    {
        "type": "event_callback",
        "event_id": "Ev08MFMKH6",
        "event": {"type": "app_mention", "text": "<@U0LAN0Z89> hi"},
    }
).encode()


def sign(body: bytes, secret: str = SECRET, ts: int = TS) -> str:
    mac = hmac.new(secret.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256)
    return "v0=" + mac.hexdigest()


def request(
    body: bytes,
    signature: str | None = None,
    ts: str | None = str(TS),
    content_type: str = "application/json",
) -> InboundRequest:
    headers = {"Content-Type": content_type}
    if ts is not None:
        headers["X-Slack-Request-Timestamp"] = ts
    if signature is None:
        signature = sign(body)
    if signature != "-":
        headers["X-Slack-Signature"] = signature
    return inbound_request(headers, body)


def source(*secrets: str) -> ResolvedSource:
    return resolved_source("slack", *(secrets or (SECRET,)))


def test_official_vector_slash_command() -> None:
    assert sign(OFFICIAL_BODY) == OFFICIAL_SIG
    accepted = PROVIDER.authenticate(
        request(OFFICIAL_BODY, OFFICIAL_SIG, content_type=FORM), source(), TS + 5
    )
    assert accepted.event_type == "command.webhook-collect"
    assert accepted.delivery_id == "398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    assert accepted.publish is True
    assert PROVIDER.name == "slack"
    assert PROVIDER.methods == frozenset({"POST"})


def test_event_callback() -> None:
    accepted = PROVIDER.authenticate(request(EVENT), source(), TS)
    assert accepted.event_type == "app_mention"
    assert accepted.delivery_id == "Ev08MFMKH6"


def test_url_verification_is_answered_not_published() -> None:
    body = (
        b'{"token":"t","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",'
        b'"type":"url_verification"}'
    )
    accepted = PROVIDER.authenticate(request(body), source(), TS)
    assert accepted.event_type == "url_verification"
    assert accepted.publish is False
    assert accepted.reply == Reply(
        200, b"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", "text/plain"
    )


@pytest.mark.parametrize(
    "body", [b'{"type":"url_verification"}', b'{"type":"url_verification","challenge":"\\ud800"}']
)
def test_signed_url_verification_without_usable_challenge_refused(body: bytes) -> None:
    with pytest.raises(Refused, match="challenge missing or not ASCII"):
        PROVIDER.authenticate(request(body), source(), TS)


def test_unsigned_url_verification_is_refused() -> None:
    body = b'{"challenge":"abc","type":"url_verification"}'
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(request(body, sign(body, "other")), source(), TS)


def test_interactivity_payload() -> None:
    payload = {"type": "block_actions", "trigger_id": "13345224609.738474920.8088930838d"}
    body = urlencode({"payload": json.dumps(payload)}).encode()
    accepted = PROVIDER.authenticate(request(body, content_type=FORM), source(), TS)
    assert accepted.event_type == "interactive.block_actions"
    assert accepted.delivery_id == "13345224609.738474920.8088930838d"


def test_other_form_body() -> None:
    body = b"token=abc&team_id=T1"
    accepted = PROVIDER.authenticate(request(body, content_type=FORM), source(), TS)
    assert accepted.event_type == "form"
    assert accepted.delivery_id == ""


def test_tampered_body_refused() -> None:
    tampered = OFFICIAL_BODY.replace(b"text=", b"text=rm")
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(request(tampered, OFFICIAL_SIG, content_type=FORM), source(), TS)


def test_wrong_secret_refused() -> None:
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(request(EVENT), source("0" * 32), TS)


def test_rotated_secret_accepted() -> None:
    accepted = PROVIDER.authenticate(request(EVENT), source("new" * 10, SECRET), TS)
    assert accepted.event_type == "app_mention"


def test_stale_timestamp_refused() -> None:
    assert PROVIDER.authenticate(request(EVENT), source(), TS + 300).event_type == "app_mention"
    for now in (TS + 301, TS - 301):
        with pytest.raises(Refused, match="timestamp outside the tolerance window"):
            PROVIDER.authenticate(request(EVENT), source(), now)


def test_missing_headers_refused() -> None:
    with pytest.raises(Refused, match="missing X-Slack-Signature header"):
        PROVIDER.authenticate(request(EVENT, "-"), source(), TS)
    with pytest.raises(Refused, match="missing X-Slack-Request-Timestamp header"):
        PROVIDER.authenticate(request(EVENT, ts=None), source(), TS)


@pytest.mark.parametrize(
    "signature",
    ["v0=", "v0", "v1=" + "a" * 64, "v0=" + "a" * 65, "v0=" + "é" * 64, "v0=\udc80", "x" * 9000],
)
def test_garbage_signature_refused(signature: str) -> None:
    with pytest.raises(Refused) as caught:
        PROVIDER.authenticate(request(EVENT, signature), source(), TS)
    assert SECRET not in caught.value.reason
    assert signature not in caught.value.reason


@pytest.mark.parametrize(
    "ts",
    [
        "",
        "abc",
        "²",
        "\u0661\u0665\u0663\u0661\u0664\u0662\u0660\u0666\u0661\u0668",
        "-1",
        "1e9",
        "9" * 40,
        "\udc80",
    ],
)
def test_garbage_timestamp_refused(ts: str) -> None:
    with pytest.raises(Refused):
        PROVIDER.authenticate(request(EVENT, ts=ts), source(), TS)
