"""Standard Webhooks and Svix providers: official vectors, header families, rotation, refusals."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from gateway.providers.base import InboundRequest, Provider, Refused, ResolvedSource
from gateway.providers.standard_webhooks import PROVIDERS
from tests.support.inbound import inbound_request, resolved_source

BY_NAME = {p.name: p for p in PROVIDERS}
STANDARD = BY_NAME["standard_webhooks"]
SVIX = BY_NAME["svix"]
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TS = 1614265330
BODY = b'{"test": 2432232314}'
OFFICIAL = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
WHPK = "whpk_A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
V1A = "v1a,yoUrgEkc12aGqm0n4Sydmdz55xJfTz4AsAgieHFjmkR7LJtqVCZOQYzvvHjI5kAey+r4iaBGxTFRrl2iBQxtDQ=="
OTHER = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"


def request(
    signature: str | None = OFFICIAL,
    body: bytes = BODY,
    prefix: str = "webhook",
    msg_id: str = MSG_ID,
    ts: str = str(TS),
) -> InboundRequest:
    headers = {f"{prefix}-id": msg_id, f"{prefix}-timestamp": ts}
    if signature is not None:
        headers[f"{prefix}-signature"] = signature
    return inbound_request(headers, body)


def source(*secrets: str) -> ResolvedSource:
    return resolved_source("standard_webhooks", *(secrets or (SECRET,)))


def sign(secret: str, msg_id: str, ts: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{ts}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def test_names_and_methods() -> None:
    assert set(BY_NAME) == {"standard_webhooks", "svix"}
    for provider in PROVIDERS:
        assert provider.methods == frozenset({"POST"})
        assert provider.challenge(request(), source()) is None


@pytest.mark.parametrize("provider", [STANDARD, SVIX])
def test_official_vector(provider: Provider) -> None:
    assert sign(SECRET, MSG_ID, TS, BODY) == OFFICIAL
    accepted = provider.authenticate(request(), source(), TS)
    assert accepted.event_type == "message"  # the payload names no type
    assert accepted.delivery_id == MSG_ID


def test_ed25519_public_key_vector() -> None:
    accepted = STANDARD.authenticate(request(V1A), source(WHPK), TS + 299)
    assert accepted.delivery_id == MSG_ID


def test_svix_headers_accepted_by_svix_only() -> None:
    assert SVIX.authenticate(request(prefix="svix"), source(), TS).delivery_id == MSG_ID
    with pytest.raises(Refused, match="missing header"):
        STANDARD.authenticate(request(prefix="svix"), source(), TS)


@pytest.mark.parametrize(
    ("key", "expected"), [("type", "invoice.paid"), ("eventType", "user.created")]
)
def test_event_type_from_payload(key: str, expected: str) -> None:
    body = f'{{"{key}": "{expected}", "data": {{}}}}'.encode()
    signature = sign(SECRET, "msg_2", TS, body)
    for provider in PROVIDERS:
        accepted = provider.authenticate(request(signature, body, msg_id="msg_2"), source(), TS)
        assert accepted.event_type == expected
        assert accepted.delivery_id == "msg_2"


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b'{"type": 7}', b'{"type": ""}', b"\xff"])
def test_untyped_payloads_are_messages(body: bytes) -> None:
    signature = sign(SECRET, MSG_ID, TS, body)
    assert STANDARD.authenticate(request(signature, body), source(), TS).event_type == "message"


def test_tampered_body_refused() -> None:
    with pytest.raises(Refused, match="no matching signature"):
        STANDARD.authenticate(request(body=b'{"test": 2432232315}'), source(), TS)


def test_wrong_secret_refused() -> None:
    with pytest.raises(Refused, match="no matching signature"):
        SVIX.authenticate(request(), source(OTHER), TS)


def test_rotated_secret_accepted() -> None:
    assert STANDARD.authenticate(request(), source(OTHER, SECRET), TS).delivery_id == MSG_ID
    assert (
        SVIX.authenticate(request(V1A, prefix="svix"), source(OTHER, WHPK), TS).delivery_id
        == MSG_ID
    )


def test_stale_and_future_timestamps_refused() -> None:
    with pytest.raises(Refused, match="stale timestamp"):
        STANDARD.authenticate(request(), source(), TS + 301)
    with pytest.raises(Refused, match="future timestamp"):
        SVIX.authenticate(request(), source(), TS - 301)


def test_missing_header_refused() -> None:
    with pytest.raises(Refused, match="missing header"):
        STANDARD.authenticate(request(None), source(), TS)


def test_misconfigured_secret_is_refused_without_leaking_it() -> None:
    with pytest.raises(Refused) as caught:
        STANDARD.authenticate(request(), source("plain-secret"), TS)
    assert "plain-secret" not in caught.value.reason


GARBAGE = [
    "v1",
    "v1,",
    "v2," + OFFICIAL[3:],
    OFFICIAL[:-2],
    "v1a,!!!!",
    "v1,\udc80",
    "v1,é",
    "v1," * 3000,
]


@pytest.mark.parametrize("signature", GARBAGE)
def test_garbage_signature_refused(signature: str) -> None:
    for provider in PROVIDERS:
        with pytest.raises(Refused) as caught:
            provider.authenticate(request(signature), source(), TS)
        assert SECRET not in caught.value.reason
        assert OFFICIAL[3:] not in caught.value.reason


@pytest.mark.parametrize(
    ("msg_id", "ts"),
    [("a.b", str(TS)), ("\udc80", str(TS)), (MSG_ID, "²"), (MSG_ID, "-1"), (MSG_ID, "9" * 40)],
)
def test_garbage_id_or_timestamp_refused(msg_id: str, ts: str) -> None:
    with pytest.raises(Refused):
        SVIX.authenticate(request(msg_id=msg_id, ts=ts), source(), TS)
