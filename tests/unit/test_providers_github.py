"""GitHub provider: the official vector, event naming, rotation and refusals."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from gateway.providers.base import InboundRequest, Refused, ResolvedSource
from gateway.providers.github import PROVIDERS
from tests.support.inbound import inbound_request, resolved_source

PROVIDER = PROVIDERS[0]
SECRET = "It's a Secret to Everybody"
OFFICIAL = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
BODY = json.dumps({"action": "opened", "number": 1}).encode()
NOW = 1_700_000_000.0


def request(headers: dict[str, str], body: bytes = BODY, content_type: str = "") -> InboundRequest:
    if content_type:
        headers = {**headers, "Content-Type": content_type}
    return inbound_request(headers, body)


def source(*secrets: str) -> ResolvedSource:
    return resolved_source("github", *(secrets or (SECRET,)))


def sig256(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signed(body: bytes = BODY, secret: str = SECRET, **extra: str) -> dict[str, str]:
    return {
        "X-Hub-Signature-256": sig256(secret, body),
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        **extra,
    }


def test_name_and_methods() -> None:
    assert PROVIDER.name == "github"
    assert PROVIDER.methods == frozenset({"POST"})
    assert PROVIDER.challenge(request(signed()), source()) is None


def test_official_vector() -> None:
    assert sig256(SECRET, b"Hello, World!") == OFFICIAL
    headers = {"X-Hub-Signature-256": OFFICIAL, "X-GitHub-Event": "push"}
    accepted = PROVIDER.authenticate(request(headers, b"Hello, World!"), source(), NOW)
    assert accepted.event_type == "push"  # body is not JSON: no action
    assert accepted.delivery_id == ""


def test_event_and_action_and_delivery() -> None:
    accepted = PROVIDER.authenticate(request(signed()), source(), NOW)
    assert accepted.event_type == "pull_request.opened"
    assert accepted.delivery_id == "72d3162e-cc78-11e3-81ab-4c9367dc0958"
    assert accepted.publish is True
    assert accepted.reply is None


def test_ping_is_just_an_event() -> None:
    body = b'{"zen": "Keep it logically awesome.", "hook_id": 1}'
    headers = {**signed(body), "X-GitHub-Event": "ping"}
    accepted = PROVIDER.authenticate(request(headers, body), source(), NOW)
    assert accepted.event_type == "ping"


def test_form_encoded_payload_carries_the_action() -> None:
    body = b"payload=%7B%22action%22%3A%22closed%22%7D"
    headers = signed(body)
    form = request(headers, body, "application/x-www-form-urlencoded")
    assert PROVIDER.authenticate(form, source(), NOW).event_type == "pull_request.closed"


def test_legacy_sha1_header_alone_is_accepted() -> None:
    sha1 = "sha1=" + hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest()
    headers = {"X-Hub-Signature": sha1, "X-GitHub-Event": "issues"}
    assert PROVIDER.authenticate(request(headers), source(), NOW).event_type == "issues.opened"


def test_sha256_header_wins_over_legacy() -> None:
    sha1 = "sha1=" + hmac.new(SECRET.encode(), BODY, hashlib.sha1).hexdigest()
    headers = {**signed(), "X-Hub-Signature-256": sig256("wrong", BODY), "X-Hub-Signature": sha1}
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(request(headers), source(), NOW)


def test_tampered_body_refused() -> None:
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(request(signed(), BODY + b" "), source(), NOW)


def test_wrong_secret_refused() -> None:
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(request(signed(secret="other")), source(), NOW)


def test_rotated_secret_accepted() -> None:
    headers = signed(secret="old-secret")
    accepted = PROVIDER.authenticate(request(headers), source("new-secret", "old-secret"), NOW)
    assert accepted.event_type == "pull_request.opened"
    with pytest.raises(Refused):
        PROVIDER.authenticate(request(headers), source("new-secret"), NOW)


def test_missing_signature_refused() -> None:
    headers = signed()
    del headers["X-Hub-Signature-256"]
    with pytest.raises(Refused, match="missing X-Hub-Signature-256 header"):
        PROVIDER.authenticate(request(headers), source(), NOW)


def test_missing_event_header_refused() -> None:
    headers = signed()
    del headers["X-GitHub-Event"]
    with pytest.raises(Refused, match="missing X-GitHub-Event header"):
        PROVIDER.authenticate(request(headers), source(), NOW)


GARBAGE = [
    "",
    " ",
    "sha256=",
    "sha256",
    "sha1=" + "a" * 64,
    "sha256=" + "a" * 63,
    "sha256=" + "g" * 64,
    "sha256=" + "a" * 64 + "\n",
    "SHA256=" + "a" * 64,
    "sha256=" + "é" * 64,
    "sha256=\udc80",
    "x" * 10_000,
]


@pytest.mark.parametrize("value", GARBAGE)
def test_garbage_signature_refused(value: str) -> None:
    headers = {**signed(), "X-Hub-Signature-256": value}
    with pytest.raises(Refused) as caught:
        PROVIDER.authenticate(request(headers), source(), NOW)
    assert SECRET not in caught.value.reason
    if value.strip():
        assert value not in caught.value.reason
