"""Twilio provider: the SDK vectors (form and JSON body), URL handling, rotation, refusals."""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import urlencode

import pytest

from gateway.providers.base import InboundRequest, Refused, ResolvedSource
from gateway.providers.twilio import PROVIDERS
from tests.support.inbound import inbound_request, resolved_source

PROVIDER = PROVIDERS[0]
TOKEN = "12345"
URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675310",
    "Digits": "1234",
    "From": "+14158675310",
    "To": "+18005551212",
}
FORM_BODY = urlencode(PARAMS).encode()
VECTOR = "GvWf1cFY/Q7PnoempGyD5oXAezc="
# twilio-python's JSON-body vector (tests/unit/test_request_validator.py)
JSON_BODY = b'{"property": "value", "boolean": true}'
BODY_HASH = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
JSON_URL = f"{URL}&bodySHA256={BODY_HASH}"
JSON_VECTOR = "a9nBmqA0ju/hNViExpshrM61xv4="
NOW = 1_700_000_000.0


def request(
    signature: str | None = VECTOR,
    body: bytes = FORM_BODY,
    url: str = URL,
    **extra: str,
) -> InboundRequest:
    headers = {"Content-Type": "application/x-www-form-urlencoded", **extra}
    if signature is not None:
        headers["X-Twilio-Signature"] = signature
    return inbound_request(headers, body, url=url)


def source(*secrets: str, **options: str) -> ResolvedSource:
    return resolved_source("twilio", *(secrets or (TOKEN,)), options=options)


def sign(token: str, url: str, params: dict[str, str]) -> str:
    data = url + "".join(k + params[k] for k in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def test_sdk_form_vector() -> None:
    assert sign(TOKEN, URL, PARAMS) == VECTOR
    accepted = PROVIDER.authenticate(request(), source(), NOW)
    assert accepted.event_type == "call"
    assert accepted.delivery_id == ""
    assert PROVIDER.name == "twilio"
    assert PROVIDER.methods == frozenset({"POST"})


def test_form_order_does_not_matter() -> None:
    shuffled = urlencode(dict(reversed(PARAMS.items()))).encode()
    assert PROVIDER.authenticate(request(body=shuffled), source(), NOW).event_type == "call"


def test_sdk_json_body_vector() -> None:
    accepted = PROVIDER.authenticate(
        request(JSON_VECTOR, JSON_BODY, JSON_URL, **{"Content-Type": "application/json"}),
        source(),
        NOW,
    )
    assert accepted.event_type == "event"


def test_json_body_must_match_its_hash() -> None:
    with pytest.raises(Refused, match="body hash mismatch"):
        PROVIDER.authenticate(request(JSON_VECTOR, JSON_BODY + b" ", JSON_URL), source(), NOW)


def test_sms_status_and_idempotency_token() -> None:
    params = {"MessageSid": "SM1", "SmsSid": "SM1", "SmsStatus": "Delivered", "To": "+1"}
    accepted = PROVIDER.authenticate(
        request(
            sign(TOKEN, URL, params),
            urlencode(params).encode(),
            **{"I-Twilio-Idempotency-Token": "a0b1c2d3-e4f5"},
        ),
        source(),
        NOW,
    )
    assert accepted.event_type == "sms.delivered"
    assert accepted.delivery_id == "a0b1c2d3-e4f5"


def test_call_status() -> None:
    params = {**PARAMS, "CallStatus": "completed"}
    signed = request(sign(TOKEN, URL, params), urlencode(params).encode())
    assert PROVIDER.authenticate(signed, source(), NOW).event_type == "call.completed"


def test_url_option_overrides_the_seen_url() -> None:
    behind_proxy = request(url="http://10.0.0.5:8080/myapp.php?foo=1&bar=2")
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(behind_proxy, source(), NOW)
    assert PROVIDER.authenticate(behind_proxy, source(url=URL), NOW).event_type == "call"


def test_default_port_added_or_removed() -> None:
    with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2"
    assert PROVIDER.authenticate(request(url=with_port), source(), NOW).event_type == "call"
    signed_with_port = sign(TOKEN, with_port, PARAMS)
    assert PROVIDER.authenticate(request(signed_with_port), source(), NOW).event_type == "call"
    other_port = "https://mycompany.com:8443/myapp.php?foo=1&bar=2"
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(request(url=other_port), source(), NOW)


def test_tampered_body_refused() -> None:
    tampered = urlencode({**PARAMS, "Digits": "9999"}).encode()
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(request(body=tampered), source(), NOW)


def test_tampered_url_refused() -> None:
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(request(url=URL + "&baz=3"), source(), NOW)


def test_wrong_secret_refused() -> None:
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(request(), source("54321"), NOW)


def test_rotated_secret_accepted() -> None:
    assert PROVIDER.authenticate(request(), source("f" * 32, TOKEN), NOW).event_type == "call"


def test_missing_header_refused() -> None:
    with pytest.raises(Refused, match="missing X-Twilio-Signature header"):
        PROVIDER.authenticate(request(None), source(), NOW)


@pytest.mark.parametrize(
    "signature",
    ["=", VECTOR[:-1], VECTOR + "AAAA", "é" * 28, "\udc80", "A" * 9999, "sha1=" + VECTOR],
)
def test_garbage_signature_refused(signature: str) -> None:
    with pytest.raises(Refused) as caught:
        PROVIDER.authenticate(request(signature), source(), NOW)
    assert TOKEN not in caught.value.reason
    assert VECTOR not in caught.value.reason


@pytest.mark.parametrize(
    "url", ["", "not a url", "https://[::1/x", "https://h:99999/x", f"{URL}&bodySHA256=zz"]
)
def test_garbage_urls_refused(url: str) -> None:
    with pytest.raises(Refused):
        PROVIDER.authenticate(request(url=url), source(), NOW)
