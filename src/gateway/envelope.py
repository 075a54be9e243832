"""The outbound webhook request: JSON envelope body and Standard Webhooks headers.

The event's JSON is spliced into the envelope as the bytes the publisher sent (it was
validated at publish time), so a webhook never pays for decoding and re-encoding data.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from urllib.parse import quote

from gateway.signing import sign
from hookwire.v1 import deliveries_pb2 as dpb
from hookwire.v1 import subscriptions_pb2 as spb

USER_AGENT = "hookwire/0.1.0"
JSON = "application/json"


def _is_json(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() in ("", JSON)


def _rfc3339(seconds: int, nanos: int) -> str:
    instant = datetime.fromtimestamp(seconds, UTC).replace(microsecond=nanos // 1000)
    return instant.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def body_for(lease: dpb.LeasedDelivery, fetch_base: str = "") -> bytes:
    """`{"id", "type", "timestamp", "data", ...properties}`. THIN leaves `data` out and
    says where to fetch it: `data_url` on this gateway, with a token only this
    subscription holds."""
    event, sub = lease.event, lease.subscription
    head: dict[str, str] = {
        "id": event.id,
        "type": event.type,
        "timestamp": _rfc3339(event.create_time.seconds, event.create_time.nanos),
        "subscription_id": sub.id,
    }
    if sub.client_state:
        head["client_state"] = sub.client_state
    if sub.payload_mode == spb.PAYLOAD_MODE_THIN:
        head["data_url"] = (
            f"{fetch_base.rstrip('/')}/events/{quote(event.id)}?access_token={lease.fetch_token}"
        )
    for key, value in sub.properties.items():
        head.setdefault(key, value)
    encoded = json.dumps(head, separators=(",", ":"), ensure_ascii=False).encode()
    if sub.payload_mode == spb.PAYLOAD_MODE_THIN:
        return encoded
    if _is_json(event.content_type):
        data = event.data or b"null"
    else:
        data = json.dumps(base64.b64encode(event.data).decode("ascii")).encode()
        encoded = (
            encoded[:-1] + b',"content_type":' + json.dumps(event.content_type).encode() + b"}"
        )
    return encoded[:-1] + b',"data":' + data + b"}"


def headers_for(lease: dpb.LeasedDelivery, body: bytes, timestamp: int) -> dict[str, str]:
    """Signed headers; the subscription's own headers cannot replace the gateway's."""
    headers = dict(lease.subscription.headers)
    headers.update(
        {
            "content-type": JSON,
            "user-agent": USER_AGENT,
            "webhook-id": lease.event.id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": sign(list(lease.signing_secrets), lease.event.id, timestamp, body),
        }
    )
    return headers
