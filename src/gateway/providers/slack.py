"""Slack: `X-Slack-Signature: v0=<hex>` over `"v0:<X-Slack-Request-Timestamp>:<raw body>"`.

One signing secret covers the Events API (JSON), slash commands and interactivity
(both form bodies), so the event type is read from whichever shape arrived. The Events
API's `url_verification` challenge is signed too: it is answered only after the
signature checks, and never published.
"""

from __future__ import annotations

import json
import re
from typing import Any

from gateway.providers.base import (
    Accepted,
    InboundRequest,
    Provider,
    Refused,
    Reply,
    ResolvedSource,
    check_hmac,
    check_timestamp,
    no_challenge,
    tolerance,
)

_SIGNATURE = re.compile(r"v0=[0-9a-fA-F]{64}")


class Slack:
    """Authenticates Slack app requests: Events API, slash commands and interactivity."""

    name = "slack"
    methods = frozenset({"POST"})
    challenge = staticmethod(no_challenge)

    def authenticate(self, request: InboundRequest, source: ResolvedSource, now: float) -> Accepted:
        timestamp = request.header("X-Slack-Request-Timestamp")
        check_timestamp(timestamp, now, tolerance(source.options))
        signature = request.header("X-Slack-Signature")
        if not _SIGNATURE.fullmatch(signature):
            raise Refused("malformed signature header")
        signed = b"v0:" + timestamp.encode() + b":" + request.body
        check_hmac([bytes.fromhex(signature[3:])], source.secrets, signed)

        if "json" in request.content_type or request.body.lstrip().startswith(b"{"):
            return _events_api(request.json())
        return _form(dict(request.form()))


def _events_api(body: Any) -> Accepted:
    if not isinstance(body, dict):
        raise Refused("body is not a JSON object")
    kind = body.get("type")
    if kind == "url_verification":
        challenge = body.get("challenge")
        if not isinstance(challenge, str) or not challenge.isascii():
            raise Refused("challenge missing or not ASCII")
        reply = Reply(200, challenge.encode("ascii"), "text/plain")
        return Accepted("url_verification", publish=False, reply=reply)
    if kind == "event_callback":
        event = body.get("event")
        event_type = event.get("type") if isinstance(event, dict) else None
        return Accepted(_text(event_type, "event_callback"), _text(body.get("event_id")))
    return Accepted(_text(kind, "event"))


def _form(fields: dict[str, str]) -> Accepted:
    """Slash commands name their command; interactivity carries a JSON `payload` field."""
    if fields.get("command"):
        return Accepted(f"command.{fields['command'].lstrip('/')}", fields.get("trigger_id", ""))
    if "payload" in fields:
        try:
            payload = json.loads(fields["payload"])
        except ValueError:
            raise Refused("payload field is not JSON") from None
        if not isinstance(payload, dict):
            raise Refused("payload field is not a JSON object")
        trigger = fields.get("trigger_id") or payload.get("trigger_id")
        return Accepted(f"interactive.{_text(payload.get('type'), 'unknown')}", _text(trigger))
    return Accepted("form", fields.get("trigger_id", ""))


def _text(value: object, default: str = "") -> str:
    return value if isinstance(value, str) and value else default


PROVIDERS: tuple[Provider, ...] = (Slack(),)
