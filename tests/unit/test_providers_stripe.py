"""Stripe provider: the PROTOCOLS vector, tolerance, rotation and refusals."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from gateway.providers.base import InboundRequest, Refused, ResolvedSource
from gateway.providers.stripe import PROVIDERS
from tests.support.inbound import inbound_request, resolved_source

PROVIDER = PROVIDERS[0]
SECRET = "stripe_secret"
BODY = b'{"id":"evt_1","type":"test"}'
TS = 1_700_000_000
VECTOR = "261c9dc56aa31d51ffec0c5838afc5cd4295299fdd536d10adb14190e0a133d0"


def request(header: str | None, body: bytes = BODY) -> InboundRequest:
    headers = {} if header is None else {"Stripe-Signature": header}
    return inbound_request(headers, body)


def source(*secrets: str, **options: str) -> ResolvedSource:
    return resolved_source("stripe", *(secrets or (SECRET,)), options=options)


def v1(secret: str, ts: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()


def test_protocols_vector() -> None:
    assert v1(SECRET, TS, BODY) == VECTOR
    accepted = PROVIDER.authenticate(request(f"t={TS},v1={VECTOR}"), source(), TS)
    assert accepted.event_type == "test"
    assert accepted.delivery_id == "evt_1"
    assert PROVIDER.name == "stripe"
    assert PROVIDER.methods == frozenset({"POST"})


def test_realistic_event_and_whsec_secret_used_as_utf8() -> None:
    secret = "whsec_test_abcdefABCDEF0123456789"
    body = b'{"id":"evt_3MtwBwLkdIwHu7ix28a3tqPa","type":"payment_intent.succeeded"}'
    header = f"t={TS},v1={v1(secret, TS, body)},v0=deadbeef"
    accepted = PROVIDER.authenticate(request(header, body), source(secret), TS + 10)
    assert accepted.event_type == "payment_intent.succeeded"
    assert accepted.delivery_id == "evt_3MtwBwLkdIwHu7ix28a3tqPa"


def test_any_v1_entry_may_match() -> None:
    header = f"t={TS},v1={'0' * 64},v1={VECTOR}"
    assert PROVIDER.authenticate(request(header), source(), TS).event_type == "test"


def test_tampered_body_refused() -> None:
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(request(f"t={TS},v1={VECTOR}", BODY + b"\n"), source(), TS)


def test_tampered_timestamp_refused() -> None:
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(request(f"t={TS + 1},v1={VECTOR}"), source(), TS)


def test_wrong_secret_refused() -> None:
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(request(f"t={TS},v1={VECTOR}"), source("whsec_other"), TS)


def test_rotated_secret_accepted() -> None:
    accepted = PROVIDER.authenticate(
        request(f"t={TS},v1={VECTOR}"), source("whsec_new", SECRET), TS
    )
    assert accepted.delivery_id == "evt_1"


def test_stale_and_future_timestamps_refused() -> None:
    header = f"t={TS},v1={VECTOR}"
    assert PROVIDER.authenticate(request(header), source(), TS + 300).event_type == "test"
    for now in (TS + 301, TS - 301):
        with pytest.raises(Refused, match="timestamp outside the tolerance window"):
            PROVIDER.authenticate(request(header), source(), now)


def test_tolerance_option() -> None:
    header = f"t={TS},v1={VECTOR}"
    loose = source(tolerance_seconds="900")
    assert PROVIDER.authenticate(request(header), loose, TS + 600).event_type == "test"
    with pytest.raises(Refused, match="tolerance"):
        PROVIDER.authenticate(request(header), source(tolerance_seconds="10"), TS + 11)
    for bad in ("-5", "0", "abc", "\u0661\u0660"):
        with pytest.raises(Refused, match="must be whole seconds from 1"):
            PROVIDER.authenticate(request(header), source(tolerance_seconds=bad), TS)


def test_missing_header_refused() -> None:
    with pytest.raises(Refused, match="missing Stripe-Signature header"):
        PROVIDER.authenticate(request(None), source(), TS)


def test_verified_body_without_type_refused() -> None:
    body = b'{"id":"evt_1"}'
    with pytest.raises(Refused, match="event has no type"):
        PROVIDER.authenticate(request(f"t={TS},v1={v1(SECRET, TS, body)}", body), source(), TS)


GARBAGE = [
    "",
    ",,,",
    "t=",
    f"t={TS}",
    f"v1={VECTOR}",
    f"t=abc,v1={VECTOR}",
    f"t=²,v1={VECTOR}",
    f"t=\u0661\u0667\u0660\u0660\u0660\u0660\u0660\u0660\u0660\u0660,v1={VECTOR}",
    f"t={'9' * 40},v1={VECTOR}",
    f"t={TS},v1={VECTOR[:-1]}",
    f"t={TS},v1={'z' * 64}",
    f"t={TS},v0={VECTOR}",
    f"t={TS},v1=\udc80",
    "=" * 5000,
]


@pytest.mark.parametrize("value", GARBAGE)
def test_garbage_header_refused(value: str) -> None:
    with pytest.raises(Refused) as caught:
        PROVIDER.authenticate(request(value), source(), TS)
    assert VECTOR not in caught.value.reason
    assert SECRET not in caught.value.reason
