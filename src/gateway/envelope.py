"""The outbound webhook request: JSON envelope body and Standard Webhooks headers.

The event's JSON is spliced into the envelope as the bytes the publisher sent (it was
validated at publish time), so a webhook never pays for decoding and re-encoding data.
"""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from urllib.parse import quote

import orjson

from gateway.signing import sign
from hookwire.v1 import deliveries_pb2 as dpb
from hookwire.v1 import events_pb2 as epb
from hookwire.v1 import subscriptions_pb2 as spb

USER_AGENT = "hookwire/0.1.0"
JSON = "application/json"


@dataclass(frozen=True, slots=True)
class Webhook:
    """One leased delivery joined with its event and target."""

    delivery: dpb.LeasedDelivery
    event: epb.Event
    target: dpb.DeliveryTarget
    timeout: float


def media_type(content_type: str) -> str:
    """The media type of a Content-Type value: what precedes any parameters, stripped and
    lower-cased (media types are case-insensitive)."""
    return content_type.partition(";")[0].strip().lower()


def is_json(content_type: str) -> bool:
    """Whether a content type is JSON: its media type is `application/json`, or it names
    none (JSON is the default). The broker validates exactly such data as JSON
    (`broker.domain.is_json`, held to this by a test), so splicing it in is safe."""
    return media_type(content_type) in ("", JSON)


def _rfc3339(seconds: int, nanos: int) -> str:
    t = time.gmtime(seconds)
    return (
        f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}"
        f"T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{nanos // 1_000_000:03d}Z"
    )


def body_for(webhook: Webhook, fetch_base: str = "") -> bytes:
    """`{"id", "type", "timestamp", "data", ...properties}`. THIN leaves `data` out and
    says where to fetch it: `data_url` on this gateway, with a token only this
    subscription holds."""
    event, target = webhook.event, webhook.target
    head: dict[str, str] = {
        "id": event.id,
        "type": event.type,
        "timestamp": _rfc3339(event.create_time.seconds, event.create_time.nanos),
        "subscription_id": target.subscription_id,
    }
    if target.client_state:
        head["client_state"] = target.client_state
    thin = target.payload_mode == spb.PAYLOAD_MODE_THIN
    if thin:
        token = webhook.delivery.fetch_token
        head["data_url"] = f"{fetch_base.rstrip('/')}/events/{quote(event.id)}?access_token={token}"
    for key, value in target.properties.items():
        head.setdefault(key, value)
    encoded = orjson.dumps(head)
    if thin:
        return encoded
    if is_json(event.content_type):
        data = event.data or b"null"
    else:
        data = json.dumps(base64.b64encode(event.data).decode("ascii")).encode()
        kind = json.dumps(event.content_type).encode()
        encoded = encoded[:-1] + b',"content_type":' + kind + b"}"
    return encoded[:-1] + b',"data":' + data + b"}"


def headers_for(webhook: Webhook, body: bytes, timestamp: int) -> dict[str, str]:
    """Signed headers; the subscription's own headers cannot replace the gateway's."""
    event_id = webhook.event.id
    headers = dict(webhook.target.headers)
    headers.update(
        {
            "content-type": JSON,
            "user-agent": USER_AGENT,
            "webhook-id": event_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(
                list(webhook.target.signing_secrets), event_id, timestamp, body
            ),
        }
    )
    return headers
