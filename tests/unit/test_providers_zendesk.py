"""Zendesk provider: the PROTOCOLS vector, both timestamp forms, freshness and refusals."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping

import pytest

from gateway.providers.base import InboundRequest, Refused, ResolvedSource
from gateway.providers.zendesk import PROVIDERS
from tests.support.inbound import inbound_request, resolved_source

PROVIDER = PROVIDERS[0]
SECRET = "zendesk_secret"
VECTOR_BODY = b'{"id":"evt_1","type":"test"}'
VECTOR_TS = "1700000000"
VECTOR = "jnTMqtJ+60KBigxoZmmBD90xZ/HtjAykwyiS6+qHwD0="
NOW = 1_700_000_000
ISO_NOW = "2023-11-14T22:13:20Z"  # == NOW
BODY = (
    b'{"type":"zen:event-type:ticket.created","account_id":1,'
    b'"id":"c5f8a6f4-2b1e-4d34-9a5b-0f6d2b7e9a01","detail":{"id":"42"},"event":{}}'
)
INVOCATION = "01HGW2TQX9J1C8K5M3N4P6Q7R8"
GARBAGE = ["!!!", "é", "\udcff", "AAAA=", "a" * 1000, "sha256=abc"]
BAD_TIMESTAMPS = ["²", "abc", "2024-13-01T00:00:00Z", "9" * 20, "\udcff", "-5", "1e9", "x" * 50]


def sign(secret: str, timestamp: str, body: bytes) -> str:
    signed = timestamp.encode("utf-8", "surrogateescape") + body
    mac = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return base64.b64encode(mac).decode()


def request(
    signature: str | None,
    timestamp: str | None = VECTOR_TS,
    body: bytes = BODY,
    *,
    extra: Mapping[str, str] | None = None,
) -> InboundRequest:
    headers = dict(extra or {})
    if signature is not None:
        headers["X-Zendesk-Webhook-Signature"] = signature
    if timestamp is not None:
        headers["X-Zendesk-Webhook-Signature-Timestamp"] = timestamp
    return inbound_request(headers, body)


def source(*secrets: str, **options: str) -> ResolvedSource:
    return resolved_source("zendesk", *(secrets or (SECRET,)), options=options)


def test_protocols_vector() -> None:
    assert sign(SECRET, VECTOR_TS, VECTOR_BODY) == VECTOR
    accepted = PROVIDER.authenticate(request(VECTOR, body=VECTOR_BODY), source(), NOW)
    assert accepted.event_type == "test"
    assert accepted.delivery_id == ""
    assert PROVIDER.name == "zendesk"
    assert PROVIDER.methods == frozenset({"POST"})


def test_accepts_event_with_raw_type_and_invocation_id() -> None:
    signed = request(
        sign(SECRET, VECTOR_TS, BODY), extra={"X-Zendesk-Webhook-Invocation-Id": INVOCATION}
    )
    accepted = PROVIDER.authenticate(signed, source(), NOW + 30)
    assert accepted.event_type == "zen:event-type:ticket.created"
    assert accepted.delivery_id == INVOCATION


def test_iso_timestamp_is_signed_as_sent_and_checked_for_freshness() -> None:
    signed = request(sign(SECRET, ISO_NOW, BODY), ISO_NOW)
    assert PROVIDER.authenticate(signed, source(), NOW + 299).event_type.startswith("zen:")
    with pytest.raises(Refused, match="tolerance"):
        PROVIDER.authenticate(signed, source(), NOW + 301)
    with pytest.raises(Refused, match="tolerance"):
        PROVIDER.authenticate(signed, source(), NOW - 301)


@pytest.mark.parametrize("timestamp", ["2023-11-14T23:13:20+01:00", "2023-11-14T22:13:20"])
def test_iso_offsets_are_honoured_and_naive_means_utc(
    timestamp: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        signed = request(sign(SECRET, timestamp, BODY), timestamp)
        assert PROVIDER.authenticate(signed, source(), NOW + 10).event_type
        with pytest.raises(Refused, match="tolerance"):
            PROVIDER.authenticate(signed, source(), NOW + 3600)
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"ticket":{"id":1}}', "event"),
        (b"ticket=1&status=open", "event"),
        (b'{"type":7}', "event"),
    ],
)
def test_trigger_bodies_without_a_type_are_events(body: bytes, expected: str) -> None:
    accepted = PROVIDER.authenticate(
        request(sign(SECRET, VECTOR_TS, body), body=body), source(), NOW
    )
    assert accepted.event_type == expected


def test_stale_timestamp_refused_and_tolerance_option_widens() -> None:
    signed = request(sign(SECRET, VECTOR_TS, BODY))
    with pytest.raises(Refused, match="tolerance"):
        PROVIDER.authenticate(signed, source(), NOW + 301)
    assert PROVIDER.authenticate(signed, source(tolerance_seconds="600"), NOW + 301).event_type


def test_bad_tolerance_option_refused() -> None:
    with pytest.raises(Refused, match="tolerance_seconds"):
        PROVIDER.authenticate(
            request(sign(SECRET, VECTOR_TS, BODY)), source(tolerance_seconds="nan"), NOW
        )


def test_tampered_body_refused() -> None:
    signed = request(sign(SECRET, VECTOR_TS, BODY), body=BODY.replace(b"42", b"43"))
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(signed, source(), NOW)


def test_tampered_timestamp_refused() -> None:
    signed = request(sign(SECRET, VECTOR_TS, BODY), str(NOW + 1))
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(signed, source(), NOW)


def test_wrong_secret_refused() -> None:
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(request(sign("other", VECTOR_TS, BODY)), source(), NOW)


def test_any_current_secret_accepted_during_rotation() -> None:
    rotating = source("new_secret", SECRET)
    for secret in ("new_secret", SECRET):
        assert PROVIDER.authenticate(
            request(sign(secret, VECTOR_TS, BODY)), rotating, NOW
        ).event_type


@pytest.mark.parametrize(
    ("signature", "timestamp", "missing"),
    [(None, VECTOR_TS, "Signature header"), (VECTOR, None, "Signature-Timestamp header")],
)
def test_missing_header_refused(signature: str | None, timestamp: str | None, missing: str) -> None:
    with pytest.raises(Refused, match=missing):
        PROVIDER.authenticate(request(signature, timestamp), source(), NOW)


@pytest.mark.parametrize("value", GARBAGE)
def test_garbage_signature_only_refused(value: str) -> None:
    with pytest.raises(Refused) as refused:
        PROVIDER.authenticate(request(value), source(), NOW)
    assert value not in refused.value.reason


@pytest.mark.parametrize("value", BAD_TIMESTAMPS)
def test_garbage_timestamp_only_refused(value: str) -> None:
    with pytest.raises(Refused):
        PROVIDER.authenticate(request(sign(SECRET, value, BODY), value), source(), NOW)
