"""GitHub: an HMAC of the raw body in `X-Hub-Signature-256` (or legacy sha1 `X-Hub-Signature`).

GitHub signs no timestamp, so replays are caught only by deduplicating on
`X-GitHub-Delivery`. The event type joins the `X-GitHub-Event` header with the body's
`action`, because one header value (`pull_request`) covers many different happenings.
"""

from __future__ import annotations

import json
from typing import Any

from gateway.providers.base import (
    Accepted,
    InboundRequest,
    Provider,
    ResolvedSource,
    check_body_hmac,
    no_challenge,
)

# header -> (prefix, hashlib algorithm); the sha256 header wins when both are sent
_SCHEMES = (
    ("X-Hub-Signature-256", "sha256=", "sha256"),
    ("X-Hub-Signature", "sha1=", "sha1"),
)


class GitHub:
    """Authenticates GitHub webhooks (repository, organisation and app hooks)."""

    name = "github"
    methods = frozenset({"POST"})
    challenge = staticmethod(no_challenge)

    def authenticate(self, request: InboundRequest, source: ResolvedSource, now: float) -> Accepted:
        header, prefix, algorithm = _scheme(request)
        check_body_hmac(request, source, header, algorithm=algorithm, prefix=prefix)

        event = request.header("X-GitHub-Event")
        action = _payload(request).get("action")
        if isinstance(action, str) and action:
            event = f"{event}.{action}"
        return Accepted(event_type=event, delivery_id=request.headers.get("X-GitHub-Delivery", ""))


def _scheme(request: InboundRequest) -> tuple[str, str, str]:
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
