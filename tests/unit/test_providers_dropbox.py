"""Dropbox provider: the GET challenge, the PROTOCOLS vector, rotation and refusals."""

from __future__ import annotations

import pytest

from gateway.providers.base import InboundRequest, Refused, Reply, ResolvedSource
from gateway.providers.dropbox import PROVIDERS
from tests.support.inbound import inbound_request, resolved_source

PROVIDER = PROVIDERS[0]
SECRET = "dropbox_secret"
BODY = b'{"id":"evt_1","type":"test"}'
VECTOR = "04dcbb20e67b2406d3d5d270bac9546ef7bb25dc6fad379622a50fd3768b785b"
NOW = 1_700_000_000.0


def request(
    signature: str | None = VECTOR,
    body: bytes = BODY,
    method: str = "POST",
    query: dict[str, str] | None = None,
) -> InboundRequest:
    headers = {} if signature is None else {"X-Dropbox-Signature": signature}
    return inbound_request(headers, body, method=method, query=query)


def source(*secrets: str) -> ResolvedSource:
    return resolved_source("dropbox", *(secrets or (SECRET,)))


def test_challenge_is_echoed_as_plain_text() -> None:
    get = request(None, b"", "GET", {"challenge": "mZ1J2jZkxXYAQMz3"})
    assert PROVIDER.challenge(get, source()) == Reply(
        200, b"mZ1J2jZkxXYAQMz3", "text/plain", headers={"X-Content-Type-Options": "nosniff"}
    )
    assert PROVIDER.methods == frozenset({"GET", "POST"})
    assert PROVIDER.name == "dropbox"


@pytest.mark.parametrize(
    ("method", "query"),
    [
        ("GET", {}),
        ("GET", {"challenge": ""}),
        ("POST", {"challenge": "x"}),
        ("GET", {"challenge": "é"}),
        ("GET", {"challenge": "a" * 5000}),
    ],
)
def test_other_requests_get_no_challenge_answer(method: str, query: dict[str, str]) -> None:
    assert PROVIDER.challenge(request(None, b"", method, query), source()) is None


def test_plain_get_is_refused() -> None:
    with pytest.raises(Refused):
        PROVIDER.authenticate(request(None, b"", "GET"), source(), NOW)
    with pytest.raises(Refused):  # even one carrying a valid signature of the empty body
        PROVIDER.authenticate(request(VECTOR, BODY, "GET"), source(), NOW)


def test_protocols_vector() -> None:
    accepted = PROVIDER.authenticate(request(), source(), NOW)
    assert accepted.event_type == "list_folder"
    assert accepted.delivery_id == ""
    assert accepted.publish is True


def test_tampered_body_refused() -> None:
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(request(body=b'{"list_folder":{"accounts":["x"]}}'), source(), NOW)


def test_wrong_secret_refused() -> None:
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(request(), source("another_secret"), NOW)


def test_rotated_secret_accepted() -> None:
    assert PROVIDER.authenticate(request(), source("newer_secret", SECRET), NOW).event_type == (
        "list_folder"
    )


def test_missing_header_refused() -> None:
    with pytest.raises(Refused, match="missing X-Dropbox-Signature header"):
        PROVIDER.authenticate(request(None), source(), NOW)


@pytest.mark.parametrize(
    "signature",
    ["0", VECTOR[:-1], VECTOR + "a", "sha256=" + VECTOR, "é" * 64, "\udc80", " " + VECTOR[1:]],
)
def test_garbage_signature_refused(signature: str) -> None:
    with pytest.raises(Refused) as caught:
        PROVIDER.authenticate(request(signature), source(), NOW)
    assert SECRET not in caught.value.reason
    assert VECTOR not in caught.value.reason
