"""Trello: HMAC-SHA1 over the body followed by the exact callback URL, base64.

Trello signs the URL it was registered with, not the one it reached, so the callback URL
is an option for sources registered behind a proxy. It checks a new webhook with an
unsigned HEAD, which must answer 200 or the registration fails.
"""

from __future__ import annotations

from gateway.providers.base import (
    Accepted,
    InboundRequest,
    Provider,
    Refused,
    Reply,
    ResolvedSource,
    check_hmac,
    decode_signature,
    utf8,
)


class Trello:
    name = "trello"
    methods = frozenset({"HEAD", "POST"})

    def challenge(self, request: InboundRequest, source: ResolvedSource) -> Reply | None:
        return Reply(200) if request.method == "HEAD" else None

    def authenticate(self, request: InboundRequest, source: ResolvedSource, now: float) -> Accepted:
        presented = decode_signature(request.header("X-Trello-Webhook"), "base64")
        callback = source.options.get("callback_url") or source.ingest_url
        if not callback:
            raise Refused("no callback URL to verify against")
        signed = request.body + utf8(callback)
        check_hmac([presented], source.secrets, signed, "sha1")
        body = request.json()
        action = body.get("action") if isinstance(body, dict) else None
        if not isinstance(action, dict) or not isinstance(action.get("type"), str):
            raise Refused("body has no action type")
        delivery = action.get("id")
        return Accepted(action["type"], delivery if isinstance(delivery, str) else "")


PROVIDERS: tuple[Provider, ...] = (Trello(),)
