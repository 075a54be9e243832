"""GitHub: an HMAC of the raw body in `X-Hub-Signature-256` (or legacy sha1 `X-Hub-Signature`).

GitHub signs no timestamp, so replays are caught only by deduplicating on
`X-GitHub-Delivery`. The event type joins the `X-GitHub-Event` header with the body's
`action`, because one header value (`pull_request`) covers many different happenings.
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
    SourceConfig,
    hmac_digest,
    matches_any,
    no_handshake,
    utf8,
)

# header -> (prefix, hashlib algorithm, hex digits); the sha256 header wins when both are sent
_SCHEMES = (
    ("X-Hub-Signature-256", "sha256=", "sha256", 64),
    ("X-Hub-Signature", "sha1=", "sha1", 40),
)


class GitHub:
    """Verifies GitHub webhooks (repository, organisation and app hooks)."""

    name = "github"
    methods = frozenset({"POST"})
    handshake = staticmethod(no_handshake)

    def verify(self, request: InboundRequest, source: SourceConfig, now: float) -> Accepted:
        header, prefix, algorithm, digits = _scheme(request)
        value = request.header(header)
        if not re.fullmatch(f"{re.escape(prefix)}[0-9a-fA-F]{{{digits}}}", value):
            raise Refused("malformed signature header")
        presented = bytes.fromhex(value[len(prefix) :])
        expected = [hmac_digest(algorithm, utf8(s), request.body) for s in source.secrets]
        if not matches_any([presented], expected):
            raise Refused("signature mismatch")

        event = request.header("X-GitHub-Event")
        action = _payload(request).get("action")
        if isinstance(action, str) and action:
            event = f"{event}.{action}"
        return Accepted(event_type=event, delivery_id=request.headers.get("X-GitHub-Delivery", ""))


def _scheme(request: InboundRequest) -> tuple[str, str, str, int]:
    """The newest scheme whose header is present (sha256 when none is, to name it missing)."""
    for scheme in _SCHEMES:
        if request.headers.get(scheme[0]):
            return scheme
    return _SCHEMES[0]


def _payload(request: InboundRequest) -> dict[str, Any]:
    """The JSON payload, from the body or (form content type) its `payload` field; {} if none."""
    raw: str | bytes = request.body
    if request.content_type.startswith("application/x-www-form-urlencoded"):
        raw = next((v for k, v in request.form() if k == "payload"), "")
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {}
    return payload if isinstance(payload, dict) else {}


PROVIDERS: tuple[Provider, ...] = (GitHub(),)
