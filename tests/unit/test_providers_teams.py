"""Teams outgoing-webhook provider: the PROTOCOLS vector, the reply message and refusals."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from gateway.providers.base import InboundRequest, Refused, ResolvedSource
from gateway.providers.teams import PROVIDERS
from tests.support.inbound import inbound_request, resolved_source

PROVIDER = PROVIDERS[0]
TOKEN = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE="
VECTOR_BODY = b'{"id":"evt_1","type":"test"}'
VECTOR = "HMAC rtthQGDVEHgEYriMXBciotmzYrNrv970bTVrZWCmd90="
OTHER_TOKEN = base64.b64encode(bytes(range(32))).decode()
BODY = json.dumps(
    {
        "type": "message",
        "id": "1485983408511",
        "text": "<at>Hookwire</at> deploy",
        "from": {"id": "29:1abc", "name": "Ada"},
    }
).encode()
GARBAGE = ["HMAC", "HMAC !!!", "HMAC é", "HMAC \udcff", "Bearer abc", "hmac", "\udcff", "x" * 500]


def sign(token: str, body: bytes) -> str:
    mac = hmac.new(base64.b64decode(token), body, hashlib.sha256).digest()
    return "HMAC " + base64.b64encode(mac).decode()


def request(authorization: str | None, body: bytes = BODY) -> InboundRequest:
    headers = {} if authorization is None else {"Authorization": authorization}
    return inbound_request(headers, body)


def source(*secrets: str, **options: str) -> ResolvedSource:
    return resolved_source("teams", *(secrets or (TOKEN,)), options=options)


def test_protocols_vector() -> None:
    assert sign(TOKEN, VECTOR_BODY) == VECTOR
    accepted = PROVIDER.authenticate(request(VECTOR, VECTOR_BODY), source(), 0)
    assert accepted.event_type == "test"
    assert accepted.delivery_id == "evt_1"
    assert PROVIDER.name == "teams"
    assert PROVIDER.methods == frozenset({"POST"})


def test_accepts_message_and_replies_within_the_request() -> None:
    accepted = PROVIDER.authenticate(request(sign(TOKEN, BODY)), source(), 0)
    assert accepted.event_type == "message"
    assert accepted.delivery_id == "1485983408511"
    assert accepted.publish
    assert accepted.reply is not None
    assert accepted.reply.status == 200
    assert accepted.reply.content_type == "application/json"
    assert json.loads(accepted.reply.body) == {"type": "message", "text": "Received."}


def test_reply_text_option() -> None:
    accepted = PROVIDER.authenticate(request(sign(TOKEN, BODY)), source(reply_text="On it ✓"), 0)
    assert accepted.reply is not None
    assert json.loads(accepted.reply.body)["text"] == "On it ✓"


def test_tampered_body_refused() -> None:
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(
            request(sign(TOKEN, BODY), BODY.replace(b"deploy", b"destroy")), source(), 0
        )


def test_wrong_token_refused() -> None:
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(request(sign(OTHER_TOKEN, BODY)), source(), 0)


def test_key_is_the_decoded_token_not_its_text() -> None:
    mac = hmac.new(TOKEN.encode(), BODY, hashlib.sha256).digest()
    with pytest.raises(Refused, match="signature mismatch"):
        PROVIDER.authenticate(request("HMAC " + base64.b64encode(mac).decode()), source(), 0)


def test_any_current_token_accepted_during_rotation() -> None:
    rotating = source(OTHER_TOKEN, TOKEN)
    for token in (OTHER_TOKEN, TOKEN):
        assert (
            PROVIDER.authenticate(request(sign(token, BODY)), rotating, 0).event_type == "message"
        )


def test_token_that_is_not_base64_never_verifies() -> None:
    with pytest.raises(Refused, match="no security token"):
        PROVIDER.authenticate(request(sign(TOKEN, BODY)), source("not base64!"), 0)


def test_missing_header_refused() -> None:
    with pytest.raises(Refused, match="missing Authorization header"):
        PROVIDER.authenticate(request(None), source(), 0)


@pytest.mark.parametrize("value", GARBAGE)
def test_garbage_authorization_only_refused(value: str) -> None:
    with pytest.raises(Refused) as refused:
        PROVIDER.authenticate(request(value), source(), 0)
    assert TOKEN not in refused.value.reason
