"""Shopify provider: the PROTOCOLS vector, topic and id, rotation and refusals."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from gateway.providers.base import InboundRequest, Refused, ResolvedSource
from gateway.providers.shopify import PROVIDERS
from tests.support.inbound import inbound_request, resolved_source

PROVIDER = PROVIDERS[0]
SECRET = "shopify_secret"
BODY = b'{"id":"evt_1","type":"test"}'
VECTOR = "rd2a0EYe1UiwJGMvuPL2Y5d1O83CpADX6qlXR/3abkQ="
NOW = 1_700_000_000.0


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def headers(signature: str | None = VECTOR) -> dict[str, str]:
    found = {
        "X-Shopify-Topic": "orders/create",
        "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        "X-Shopify-Shop-Domain": "example.myshopify.com",
    }
    if signature is not None:
        found["X-Shopify-Hmac-Sha256"] = signature
    return found


def request(hdrs: dict[str, str], body: bytes = BODY) -> InboundRequest:
    return inbound_request(hdrs, body)


def source(*secrets: str) -> ResolvedSource:
    return resolved_source("shopify", *(secrets or (SECRET,)))


def test_protocols_vector_topic_and_id() -> None:
    assert sign(SECRET, BODY) == VECTOR
    accepted = PROVIDER.authenticate(request(headers()), source(), NOW)
    assert accepted.event_type == "orders/create"
    assert accepted.delivery_id == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"
    assert PROVIDER.name == "shopify"
    assert PROVIDER.methods == frozenset({"POST"})


def test_tampered_body_refused() -> None:
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(request(headers(), b'{"id":"evt_2","type":"test"}'), source(), NOW)


def test_wrong_secret_refused() -> None:
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(request(headers()), source("shpss_other"), NOW)


def test_rotated_secret_accepted() -> None:
    accepted = PROVIDER.authenticate(request(headers()), source("shpss_new", SECRET), NOW)
    assert accepted.event_type == "orders/create"


def test_missing_header_refused() -> None:
    with pytest.raises(Refused, match="missing X-Shopify-Hmac-Sha256 header"):
        PROVIDER.authenticate(request(headers(None)), source(), NOW)


def test_missing_topic_refused() -> None:
    hdrs = headers()
    del hdrs["X-Shopify-Topic"]
    with pytest.raises(Refused, match="missing X-Shopify-Topic header"):
        PROVIDER.authenticate(request(hdrs), source(), NOW)


@pytest.mark.parametrize(
    "signature",
    [
        " ",
        "====",
        VECTOR[:-2],
        VECTOR + "AAAA",
        VECTOR.replace("/", "_"),
        "é" * 44,
        "\udc80",
        base64.b64encode(b"\0" * 20).decode(),
        "A" * 20_000,
    ],
)
def test_garbage_signature_refused(signature: str) -> None:
    with pytest.raises(Refused) as caught:
        PROVIDER.authenticate(request(headers(signature)), source(), NOW)
    assert SECRET not in caught.value.reason
    assert VECTOR not in caught.value.reason
