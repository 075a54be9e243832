"""Pusher provider: the PROTOCOLS vector, key selection, rotation and refusals."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from gateway.providers.base import InboundRequest, Refused, ResolvedSource
from gateway.providers.pusher import PROVIDERS
from tests.support.inbound import inbound_request, resolved_source

PROVIDER = PROVIDERS[0]
KEY = "a1b2c3d4e5f6a7b8c9d0"
SECRET = "pusher_secret"
VECTOR_BODY = b'{"id":"evt_1","type":"test"}'
VECTOR = "6177fa4cd4afb2a4606742652f977059238b254318581c51c4f5d67361b0d805"
BODY = json.dumps(
    {"time_ms": 1700000000123, "events": [{"name": "channel_occupied", "channel": "presence-1"}]}
).encode()
GARBAGE = ["!!!", "é", "\udcff", "abc", "zz" * 32, "sha256=" + VECTOR, "a" * 1000]


def sign(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def request(signature: str | None, body: bytes = BODY, key: str | None = KEY) -> InboundRequest:
    headers = {}
    if signature is not None:
        headers["X-Pusher-Signature"] = signature
    if key is not None:
        headers["X-Pusher-Key"] = key
    return inbound_request(headers, body)


def source(*secrets: str) -> ResolvedSource:
    return resolved_source("pusher", *(secrets or (f"{KEY}:{SECRET}",)))


def test_protocols_vector() -> None:
    assert sign(SECRET, VECTOR_BODY) == VECTOR
    accepted = PROVIDER.authenticate(request(VECTOR, VECTOR_BODY), source(), 0)
    assert accepted.event_type == "events"
    assert accepted.delivery_id == hashlib.sha256(VECTOR_BODY).hexdigest()
    assert PROVIDER.name == "pusher"
    assert PROVIDER.methods == frozenset({"POST"})


def test_single_event_name_is_the_type_and_body_digest_the_id() -> None:
    accepted = PROVIDER.authenticate(request(sign(SECRET, BODY)), source(), 0)
    assert accepted.event_type == "channel_occupied"
    assert accepted.delivery_id == hashlib.sha256(BODY).hexdigest()


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["channel_occupied", "channel_occupied"], "channel_occupied"),
        (["channel_occupied", "channel_vacated"], "events"),
        (["member_added", ["x"]], "events"),
        ([], "events"),
    ],
)
def test_a_batch_of_one_kind_is_named_by_it_else_events(names: list[object], expected: str) -> None:
    events = [{"name": name, "channel": "presence-1"} for name in names]
    body = json.dumps({"time_ms": 1, "events": events}).encode()
    assert (
        PROVIDER.authenticate(request(sign(SECRET, body), body), source(), 0).event_type == expected
    )


def test_uppercase_hex_accepted() -> None:
    assert PROVIDER.authenticate(request(sign(SECRET, BODY).upper()), source(), 0).event_type


def test_tampered_body_refused() -> None:
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(
            request(sign(SECRET, BODY), BODY.replace(b"123", b"124")), source(), 0
        )


def test_wrong_secret_refused() -> None:
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(request(sign("other", BODY)), source(), 0)


def test_unknown_key_refused() -> None:
    with pytest.raises(Refused, match="unknown X-Pusher-Key"):
        PROVIDER.authenticate(request(sign(SECRET, BODY), key="other-key"), source(), 0)


def test_rotation_to_a_new_app_key_accepts_both() -> None:
    rotating = source("newkey:new_secret", f"{KEY}:{SECRET}")
    assert PROVIDER.authenticate(request(sign(SECRET, BODY)), rotating, 0).event_type
    new = request(sign("new_secret", BODY), key="newkey")
    assert PROVIDER.authenticate(new, rotating, 0).event_type == "channel_occupied"
    # Each key is bound to its own secret.
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(request(sign("new_secret", BODY)), rotating, 0)


def test_secret_rotation_under_one_key() -> None:
    rotating = source(f"{KEY}:new_secret", f"{KEY}:{SECRET}")
    for secret in ("new_secret", SECRET):
        assert PROVIDER.authenticate(request(sign(secret, BODY)), rotating, 0).event_type


@pytest.mark.parametrize(("signature", "key"), [(None, KEY), (VECTOR, None)])
def test_missing_header_refused(signature: str | None, key: str | None) -> None:
    with pytest.raises(Refused, match="missing X-Pusher"):
        PROVIDER.authenticate(request(signature, key=key), source(), 0)


@pytest.mark.parametrize("value", GARBAGE)
def test_garbage_headers_only_refused(value: str) -> None:
    with pytest.raises(Refused) as refused:
        PROVIDER.authenticate(request(value), source(), 0)
    assert value not in refused.value.reason
    with pytest.raises(Refused):
        PROVIDER.authenticate(request(sign(SECRET, BODY), key=value), source(), 0)
