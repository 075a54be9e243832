"""API-key provider: default and configured header, Bearer form, rotation and refusals."""

from __future__ import annotations

import pytest

from gateway.providers.api_key import PROVIDERS
from gateway.providers.base import InboundRequest, Refused, ResolvedSource
from tests.support.inbound import inbound_request, resolved_source

PROVIDER = PROVIDERS[0]
KEY = "hwk_live_8f2c1d9e7b6a5f4e3d2c1b0a"
BODY = b'{"id":"evt_1","type":"user.signed_up"}'
GARBAGE = ["\udcff", "é", KEY[:-1], KEY.upper(), "Bearer", "x" * 1000]


def request(headers: dict[str, str], body: bytes = BODY) -> InboundRequest:
    return inbound_request(headers, body)


def source(*secrets: str, **options: str) -> ResolvedSource:
    return resolved_source("api_key", *(secrets or (KEY,)), options=options)


def test_default_header_with_json_type() -> None:
    accepted = PROVIDER.authenticate(request({"x-api-key": KEY}), source(), 0)
    assert accepted.event_type == "user.signed_up"
    assert accepted.delivery_id == ""
    assert PROVIDER.name == "api_key"
    assert PROVIDER.methods == frozenset({"POST"})


def test_configured_header_and_type_id_headers() -> None:
    options = {"header": "X-Hook-Token", "event_type_header": "X-Kind", "id_header": "X-Id"}
    headers = {"X-Hook-Token": KEY, "X-Kind": "build:done", "X-Id": "b-42"}
    accepted = PROVIDER.authenticate(request(headers), source(**options), 0)
    assert (accepted.event_type, accepted.delivery_id) == ("build:done", "b-42")
    with pytest.raises(Refused, match="missing X-Hook-Token header"):
        PROVIDER.authenticate(request({"X-API-Key": KEY}), source(**options), 0)


def test_authorization_header_takes_bearer_or_bare_key() -> None:
    configured = source(header="Authorization")
    for value in (f"Bearer {KEY}", f"bearer {KEY}", KEY):
        assert PROVIDER.authenticate(request({"Authorization": value}), configured, 0).event_type
    with pytest.raises(Refused, match="key mismatch"):
        PROVIDER.authenticate(request({"Authorization": f"Basic {KEY}"}), configured, 0)


def test_bearer_is_not_stripped_from_other_headers() -> None:
    with pytest.raises(Refused, match="key mismatch"):
        PROVIDER.authenticate(request({"X-API-Key": f"Bearer {KEY}"}), source(), 0)


def test_wrong_key_refused() -> None:
    with pytest.raises(Refused, match="key mismatch"):
        PROVIDER.authenticate(request({"X-API-Key": "hwk_live_other"}), source(), 0)


def test_any_current_key_accepted_during_rotation() -> None:
    rotating = source("hwk_live_new", KEY)
    for key in ("hwk_live_new", KEY):
        assert PROVIDER.authenticate(request({"X-API-Key": key}), rotating, 0).event_type


def test_missing_header_refused() -> None:
    with pytest.raises(Refused, match="missing X-API-Key header"):
        PROVIDER.authenticate(request({}), source(), 0)


@pytest.mark.parametrize("value", GARBAGE)
def test_garbage_key_only_refused(value: str) -> None:
    with pytest.raises(Refused) as refused:
        PROVIDER.authenticate(request({"X-API-Key": value}), source(), 0)
    assert KEY not in refused.value.reason and value not in refused.value.reason
