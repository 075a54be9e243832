import base64
import json

import pytest

from broker import domain
from gateway.envelope import Webhook, body_for, headers_for, is_json, media_type
from gateway.signing import verify
from hookwire.v1 import deliveries_pb2 as dpb
from hookwire.v1 import events_pb2 as epb
from hookwire.v1 import subscriptions_pb2 as spb

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def lease(
    data: bytes = b'{"amount": 5}', content_type: str = "application/json", **sub: object
) -> Webhook:
    event = epb.Event(id="evt_1", type="invoice.paid", data=data, content_type=content_type)
    event.create_time.FromSeconds(1_700_000_000)
    target = dpb.DeliveryTarget(
        subscription_id="sub_1",
        url="https://example.com/hook",
        signing_secrets=[SECRET],
        **sub,  # type: ignore[arg-type]
    )
    delivery = dpb.LeasedDelivery(
        delivery_id="dlv_1", event_id="evt_1", subscription_id="sub_1", lease_id="lse_1"
    )
    return Webhook(delivery, event, target, 15.0)


def test_full_body_carries_event_json_as_sent() -> None:
    body = body_for(lease(properties={"tenant": "acme"}, client_state="s3cr3t-state"))
    envelope = json.loads(body)
    assert envelope == {
        "id": "evt_1",
        "type": "invoice.paid",
        "timestamp": "2023-11-14T22:13:20.000Z",
        "subscription_id": "sub_1",
        "client_state": "s3cr3t-state",
        "tenant": "acme",
        "data": {"amount": 5},
    }
    assert body.endswith(b'"data":{"amount": 5}}')


def test_timestamp_keeps_milliseconds_and_properties_keep_their_characters() -> None:
    webhook = lease(properties={"team": "Zürich \u2603", "quote": 'say "hi"\n'})
    webhook.event.create_time.FromNanoseconds(946_684_799_999_999_999)
    body = body_for(webhook)
    envelope = json.loads(body)
    assert envelope["timestamp"] == "1999-12-31T23:59:59.999Z"
    assert envelope["team"] == "Zürich \u2603" and envelope["quote"] == 'say "hi"\n'
    assert "Zürich ☃".encode() in body  # UTF-8 as is, not \u-escaped


def test_non_json_data_is_base64() -> None:
    envelope = json.loads(
        body_for(lease(data=b"\x00\x01binary", content_type="application/octet-stream"))
    )
    assert base64.b64decode(envelope["data"]) == b"\x00\x01binary"
    assert envelope["content_type"] == "application/octet-stream"


def test_thin_body_has_no_data() -> None:
    envelope = json.loads(body_for(lease(payload_mode=spb.PAYLOAD_MODE_THIN)))
    assert "data" not in envelope
    assert envelope["id"] == "evt_1"


def test_headers_are_signed_standard_webhooks() -> None:
    delivery = lease(headers={"X-Tenant": "acme"})
    body = body_for(delivery)
    headers = headers_for(delivery, body, 1_700_000_000)
    assert headers["webhook-id"] == "evt_1"
    assert headers["webhook-timestamp"] == "1700000000"
    assert headers["content-type"] == "application/json"
    assert headers["user-agent"].startswith("hookwire/")
    assert headers["X-Tenant"] == "acme"
    assert verify([SECRET], headers, body, now=1_700_000_000) == "evt_1"


def test_rotation_signs_with_every_secret() -> None:
    delivery = lease()
    other = "whsec_" + base64.b64encode(b"k" * 32).decode()
    delivery.target.signing_secrets[:] = [other, SECRET]
    body = body_for(delivery)
    headers = headers_for(delivery, body, 1_700_000_000)
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert verify([SECRET], headers, body, now=1_700_000_000) == "evt_1"
    assert verify([other], headers, body, now=1_700_000_000) == "evt_1"


@pytest.mark.parametrize(
    ("content_type", "json_media_type"),
    [
        ("application/json", True),
        ("Application/JSON; charset=utf-8", True),
        (" application/json ;", True),
        ("application/json-patch+json", False),
        ("application/vnd.api+json", False),
        ("text/json", False),
        ("text/plain", False),
        ("", True),
        ("; charset=utf-8", True),
    ],
)
def test_is_json_is_the_brokers_rule(content_type: str, json_media_type: bool) -> None:
    assert is_json(content_type) is json_media_type
    assert domain.is_json(content_type) is json_media_type


def test_an_event_without_a_content_type_is_spliced_in_as_json() -> None:
    envelope = json.loads(body_for(lease(content_type="")))
    assert envelope["data"] == {"amount": 5}
    assert "content_type" not in envelope


def test_media_type_drops_parameters_and_case() -> None:
    assert media_type(" Text/Plain ; charset=utf-8") == "text/plain"
    assert media_type("") == ""
