"""Basic-auth provider: the credential check, rotation, type/id options and refusals."""

from __future__ import annotations

import base64

import pytest

from gateway.providers.base import InboundRequest, Refused, ResolvedSource
from gateway.providers.basic_auth import PROVIDERS
from tests.support.inbound import inbound_request, resolved_source

PROVIDER = PROVIDERS[0]
SECRET = "hookwire:s3cr3t-p4ss:with-colon"
BODY = b'{"id":"evt_1","type":"order.created"}'
GARBAGE = ["Basic", "Basic !!!", "Basic é", "Basic \udcff", "Bearer abc", "\udcff", "x" * 500]


def basic(credential: str | bytes) -> str:
    raw = credential.encode() if isinstance(credential, str) else credential
    return "Basic " + base64.b64encode(raw).decode()


def request(authorization: str | None, body: bytes = BODY, /, **headers: str) -> InboundRequest:
    if authorization is not None:
        headers["Authorization"] = authorization
    return inbound_request(headers, body)


def source(*secrets: str, **options: str) -> ResolvedSource:
    return resolved_source("basic_auth", *(secrets or (SECRET,)), options=options)


def test_accepts_credential_with_json_type() -> None:
    accepted = PROVIDER.authenticate(request(basic(SECRET)), source(), 0)
    assert accepted.event_type == "order.created"
    assert accepted.delivery_id == ""
    assert PROVIDER.name == "basic_auth"
    assert PROVIDER.methods == frozenset({"POST"})


def test_scheme_is_case_insensitive() -> None:
    assert PROVIDER.authenticate(request(basic(SECRET).replace("Basic", "basic")), source(), 0)


def test_other_schemes_refused_even_with_the_right_credential() -> None:
    for scheme in ("Bearer", "Digest", "HMAC"):
        with pytest.raises(Refused, match="not Basic"):
            PROVIDER.authenticate(request(basic(SECRET).replace("Basic", scheme)), source(), 0)


def test_type_and_id_from_configured_headers() -> None:
    options = {"event_type_header": "X-Event", "id_header": "X-Id"}
    signed = request(basic(SECRET), **{"X-Event": "invoice/paid", "X-Id": "d-1"})
    accepted = PROVIDER.authenticate(signed, source(**options), 0)
    assert (accepted.event_type, accepted.delivery_id) == ("invoice/paid", "d-1")
    plain = PROVIDER.authenticate(request(basic(SECRET), b"a=1"), source(**options), 0)
    assert (plain.event_type, plain.delivery_id) == ("received", "")


@pytest.mark.parametrize(
    "credential",
    ["hookwire:wrong", "hookwire:s3cr3t-p4ss", "Hookwire:s3cr3t-p4ss:with-colon", SECRET + " ", ""],
)
def test_wrong_credential_refused(credential: str) -> None:
    with pytest.raises(Refused, match="credential mismatch"):
        PROVIDER.authenticate(request(basic(credential)), source(), 0)


def test_non_utf8_credential_refused() -> None:
    with pytest.raises(Refused, match="credential mismatch"):
        PROVIDER.authenticate(request(basic(b"hookwire:\xff\xfe")), source(), 0)


def test_any_current_credential_accepted_during_rotation() -> None:
    rotating = source("hookwire:new-pass", SECRET)
    for credential in ("hookwire:new-pass", SECRET):
        assert PROVIDER.authenticate(request(basic(credential)), rotating, 0).event_type


def test_missing_header_refused() -> None:
    with pytest.raises(Refused, match="missing Authorization header"):
        PROVIDER.authenticate(request(None), source(), 0)


@pytest.mark.parametrize("value", GARBAGE)
def test_garbage_authorization_only_refused(value: str) -> None:
    with pytest.raises(Refused) as refused:
        PROVIDER.authenticate(request(value), source(), 0)
    assert SECRET not in refused.value.reason and value not in refused.value.reason
