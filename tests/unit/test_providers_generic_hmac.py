"""Configurable HMAC provider: published vectors through its options, every option,
option validation and refusals."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from broker import subscription_rules
from gateway.providers.base import InboundRequest, Refused, ResolvedSource
from gateway.providers.generic_hmac import HEADER_NAME, PROVIDERS, option_problem
from tests.support.inbound import inbound_request, resolved_source

PROVIDER = PROVIDERS[0]
SECRET = "0123456789abcdef0123456789abcdef"
BODY = b'{"id":"evt_1","type":"test"}'
NOW = 1_700_000_000
TIMESTAMPED = {
    "header": "X-Signature",
    "prefix": "sha256=",
    "timestamp_header": "X-Timestamp",
    "template": "{timestamp}.{body}",
    "id_header": "X-Delivery-Id",
}
GARBAGE = ["!!!", "é", "\udcff", "sha256=", "sha256=zz", "sha256=" + "a" * 1000, "a" * 64]


def request(headers: dict[str, str], body: bytes = BODY) -> InboundRequest:
    return inbound_request(headers, body)


def source(options: dict[str, str], *secrets: str) -> ResolvedSource:
    return resolved_source("hmac", *(secrets or (SECRET,)), options=options)


def mac(secret: str, content: bytes, algorithm: str = "sha256") -> bytes:
    return hmac.new(secret.encode(), content, getattr(hashlib, algorithm)).digest()


def timestamped_headers(secret: str = SECRET, ts: int = NOW, body: bytes = BODY) -> dict[str, str]:
    signature = "sha256=" + mac(secret, f"{ts}.".encode() + body).hex()
    return {"X-Signature": signature, "X-Timestamp": str(ts), "X-Delivery-Id": "dlv_1"}


def timestamped(secret: str = SECRET, ts: int = NOW) -> InboundRequest:
    return request(timestamped_headers(secret, ts))


def test_aspnet_custom_vector_protocols_2_5() -> None:
    options = {"header": "ms-signature", "prefix": "sha256="}
    vector = "sha256=70118e68dec0d107c5442739bac7e4a63c8ae410c235c19ba7ea23c520737c3f"
    accepted = PROVIDER.authenticate(request({"ms-signature": vector}), source(options), NOW)
    assert accepted.event_type == "test"
    assert accepted.delivery_id == ""
    assert PROVIDER.name == "hmac"
    assert PROVIDER.methods == frozenset({"POST"})


def test_convoy_simple_vector_protocols_2_2() -> None:
    body = b'{"event":"charge.success","amount":1000,"currency":"NGN"}'
    vector = "244449b7f48cbc2709060c9dcdc2b3aa47a78f540430579015c579fb12defbb4"
    convoy = source({"header": "X-Convoy-Signature"}, "convoy-webhook-secret")
    accepted = PROVIDER.authenticate(request({"X-Convoy-Signature": vector}, body), convoy, NOW)
    assert accepted.event_type == "received"


def test_hook0_v0_vector_through_the_template_protocols_2_3() -> None:
    options = {
        "header": "X-Sig",
        "timestamp_header": "X-Ts",
        "template": "{timestamp}.{body}",
        "tolerance_seconds": "60",
    }
    vector = "1b3d69df55f1e52f05224ba94a5162abeb17ef52cd7f4948c390f810d6a87e98"
    signed = request({"X-Sig": vector, "X-Ts": "1636936200"}, b"hello !")
    assert PROVIDER.authenticate(signed, source(options, "secret"), 1636936200 + 59).event_type
    with pytest.raises(Refused, match="tolerance"):
        PROVIDER.authenticate(signed, source(options, "secret"), 1636936200 + 61)


def test_timestamped_options_accept_with_type_and_id() -> None:
    accepted = PROVIDER.authenticate(timestamped(), source(TIMESTAMPED), NOW + 299)
    assert accepted.event_type == "test"
    assert accepted.delivery_id == "dlv_1"


def test_stale_timestamp_refused() -> None:
    with pytest.raises(Refused, match="tolerance"):
        PROVIDER.authenticate(timestamped(ts=NOW - 301), source(TIMESTAMPED), NOW)


def test_timestamp_is_signed() -> None:
    moved = request({**timestamped_headers(), "X-Timestamp": str(NOW + 1)})
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(moved, source(TIMESTAMPED), NOW)


@pytest.mark.parametrize(
    ("algorithm", "encoding"),
    [("sha1", "hex"), ("sha256", "base64"), ("sha512", "hex"), ("sha512", "base64")],
)
def test_algorithms_and_encodings(algorithm: str, encoding: str) -> None:
    digest = mac(SECRET, BODY, algorithm)
    text = digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()
    options = {"header": "X-Sig", "algorithm": algorithm, "encoding": encoding}
    assert (
        PROVIDER.authenticate(request({"X-Sig": text}), source(options), NOW).event_type == "test"
    )
    other = "sha256" if algorithm != "sha256" else "sha512"
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(
            request({"X-Sig": text}), source({**options, "algorithm": other}), NOW
        )


def test_template_literals_are_signed_and_body_bytes_kept() -> None:
    body = b'{"type":"a.b"}\xff\xfe'  # not UTF-8: must never be decoded
    options = {"header": "X-Sig", "template": "v0:{body}:{body}"}
    signed = request({"X-Sig": mac(SECRET, b"v0:" + body + b":" + body).hex()}, body)
    assert PROVIDER.authenticate(signed, source(options), NOW).event_type == "received"


def test_type_header_then_json_type_then_received() -> None:
    options = source({"header": "X-Sig", "event_type_header": "X-Event"})
    signature = mac(SECRET, BODY).hex()
    typed = request({"X-Sig": signature, "X-Event": "order/paid"})
    assert PROVIDER.authenticate(typed, options, NOW).event_type == "order/paid"
    assert PROVIDER.authenticate(request({"X-Sig": signature}), options, NOW).event_type == "test"
    for body in (b"[1]", b"plain", b'{"type":5}', b'{"type":""}', b"[" * 100_000):
        signed = request({"X-Sig": mac(SECRET, body).hex()}, body)
        assert PROVIDER.authenticate(signed, options, NOW).event_type == "received"


def test_tampered_body_refused() -> None:
    tampered = request(timestamped_headers(), BODY.replace(b"evt_1", b"evt_2"))
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(tampered, source(TIMESTAMPED), NOW)


def test_wrong_secret_refused() -> None:
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(timestamped("other_secret"), source(TIMESTAMPED), NOW)


def test_any_current_secret_accepted_during_rotation() -> None:
    rotating = source(TIMESTAMPED, "new_secret", SECRET)
    for secret in ("new_secret", SECRET):
        assert PROVIDER.authenticate(timestamped(secret), rotating, NOW).event_type == "test"


def test_missing_prefix_refused() -> None:
    headers = timestamped_headers()
    headers["X-Signature"] = headers["X-Signature"].removeprefix("sha256=")
    with pytest.raises(Refused, match="prefix"):
        PROVIDER.authenticate(request(headers), source(TIMESTAMPED), NOW)


@pytest.mark.parametrize("missing", ["X-Signature", "X-Timestamp"])
def test_missing_header_refused(missing: str) -> None:
    headers = timestamped_headers()
    del headers[missing]
    with pytest.raises(Refused, match=f"missing {missing} header"):
        PROVIDER.authenticate(request(headers), source(TIMESTAMPED), NOW)


@pytest.mark.parametrize("value", GARBAGE)
def test_garbage_signature_only_refused(value: str) -> None:
    signed = request({**timestamped_headers(), "X-Signature": value})
    with pytest.raises(Refused) as refused:
        PROVIDER.authenticate(signed, source(TIMESTAMPED), NOW)
    assert value not in refused.value.reason


@pytest.mark.parametrize("value", ["²", "١٢", "-1", "1.5", "\udcff", "9" * 30, ""])
def test_garbage_timestamp_only_refused(value: str) -> None:
    with pytest.raises(Refused):
        PROVIDER.authenticate(
            request({**timestamped_headers(), "X-Timestamp": value}), source(TIMESTAMPED), NOW
        )


def test_valid_options() -> None:
    assert option_problem({"header": "X-Sig"}) is None
    assert option_problem(TIMESTAMPED) is None
    full = {
        **TIMESTAMPED,
        "algorithm": "sha512",
        "encoding": "base64",
        "tolerance_seconds": "600",
        "event_type_header": "X-Event",
    }
    assert option_problem(full) is None


@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({}, "header"),
        ({"header": ""}, "header"),
        ({"header": "X Sig"}, "header"),
        ({"header": "X-Sig", "algorithm": "md5"}, "algorithm"),
        ({"header": "X-Sig", "encoding": "base32"}, "encoding"),
        ({"header": "X-Sig", "template": "{timestamp}"}, "template"),
        ({"header": "X-Sig", "template": "{nonce}.{body}"}, "template"),
        ({"header": "X-Sig", "template": "{timestamp}.{body}"}, "timestamp_header"),
        ({"header": "X-Sig", "tolerance_seconds": "0"}, "tolerance_seconds"),
        ({"header": "X-Sig", "tolerance_seconds": "nan"}, "tolerance_seconds"),
        ({"header": "X-Sig", "id_header": "bad:name"}, "id_header"),
        ({"header": "X-Sig", "heder": "X-Sig"}, "heder"),
    ],
)
def test_option_problems_name_the_key(options: dict[str, str], key: str) -> None:
    problem = option_problem(options)
    assert problem is not None and f"'{key}'" in problem


def test_misconfigured_source_refused_not_crashed() -> None:
    with pytest.raises(Refused, match="'algorithm'"):
        PROVIDER.authenticate(timestamped(), source({**TIMESTAMPED, "algorithm": "md5"}), NOW)
    with pytest.raises(Refused, match="'header'"):
        PROVIDER.authenticate(timestamped(), source({}), NOW)


def test_header_names_are_checked_with_the_brokers_pattern() -> None:
    assert HEADER_NAME.pattern == subscription_rules.HEADER_NAME.pattern
