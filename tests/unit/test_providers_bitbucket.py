"""Bitbucket provider: sha256 hex signature, raw event key, rotation and refusals."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from gateway.providers.base import InboundRequest, Refused, ResolvedSource
from gateway.providers.bitbucket import PROVIDERS
from tests.support.inbound import inbound_request, resolved_source

PROVIDER = PROVIDERS[0]
SECRET = "bitbucket_secret"
BODY = b'{"id":"evt_1","type":"test"}'
# hex HMAC-SHA256("bitbucket_secret", BODY), computed once with Python's hmac
VECTOR = "sha256=e7896bf617fe0d5ff7f1fa8a9340e07b0d987a223d206aa86e7b661e80211b7f"
NOW = 1_700_000_000.0


def headers(signature: str | None = VECTOR) -> dict[str, str]:
    found = {
        "X-Event-Key": "repo:push",
        "X-Request-UUID": "3f6a6a2e-3b3c-4d4e-9f00-5c1a2b3c4d5e",
        "X-Hook-UUID": "{b5b7e0e1-0000-4000-8000-000000000000}",
    }
    if signature is not None:
        found["X-Hub-Signature"] = signature
    return found


def request(hdrs: dict[str, str], body: bytes = BODY) -> InboundRequest:
    return inbound_request(hdrs, body)


def source(*secrets: str) -> ResolvedSource:
    return resolved_source("bitbucket", *(secrets or (SECRET,)))


def test_same_algorithm_as_githubs_official_vector() -> None:
    signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    hdrs = {"X-Hub-Signature": signature, "X-Event-Key": "repo:push"}
    accepted = PROVIDER.authenticate(
        request(hdrs, b"Hello, World!"), source("It's a Secret to Everybody"), NOW
    )
    assert accepted.event_type == "repo:push"
    assert accepted.delivery_id == ""


def test_accepted_with_raw_event_key_and_request_uuid() -> None:
    accepted = PROVIDER.authenticate(request(headers()), source(), NOW)
    assert accepted.event_type == "repo:push"
    assert accepted.delivery_id == "3f6a6a2e-3b3c-4d4e-9f00-5c1a2b3c4d5e"
    assert PROVIDER.name == "bitbucket"
    assert PROVIDER.methods == frozenset({"POST"})


def test_tampered_body_refused() -> None:
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(request(headers(), BODY[:-1]), source(), NOW)


def test_wrong_secret_refused() -> None:
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(request(headers()), source("not_it"), NOW)


def test_rotated_secret_accepted() -> None:
    accepted = PROVIDER.authenticate(request(headers()), source("newer", SECRET), NOW)
    assert accepted.event_type == "repo:push"


def test_missing_headers_refused() -> None:
    with pytest.raises(Refused, match="missing X-Hub-Signature header"):
        PROVIDER.authenticate(request(headers(None)), source(), NOW)
    hdrs = headers()
    del hdrs["X-Event-Key"]
    with pytest.raises(Refused, match="missing X-Event-Key header"):
        PROVIDER.authenticate(request(hdrs), source(), NOW)


@pytest.mark.parametrize(
    "signature",
    [
        "sha256=",
        "sha1=" + hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest(),
        VECTOR[:-1],
        VECTOR + "0",
        VECTOR.replace("sha256=", "sha256 "),
        "sha256=" + "é" * 64,
        "sha256=\udc80",
        "-" * 10_000,
    ],
)
def test_garbage_signature_refused(signature: str) -> None:
    with pytest.raises(Refused) as caught:
        PROVIDER.authenticate(request(headers(signature)), source(), NOW)
    assert SECRET not in caught.value.reason
    assert VECTOR[7:] not in caught.value.reason
