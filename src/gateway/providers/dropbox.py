"""Dropbox: a GET `?challenge=` handshake, then POSTs signed in `X-Dropbox-Signature`
(hex HMAC-SHA256 of the raw body with the app secret).

The challenge is echoed unsigned, as Dropbox requires, but only as `text/plain` with
`nosniff` so the echo cannot be turned into a page. Notifications carry no id and no
content beyond "something changed for these accounts", so they need no deduplication.
"""

from __future__ import annotations

import re

from gateway.providers.base import (
    Accepted,
    InboundRequest,
    Provider,
    Refused,
    Reply,
    SourceConfig,
    hmac_digest,
    matches_any,
    utf8,
)

_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_MAX_CHALLENGE = 1024


class Dropbox:
    """Verifies Dropbox app webhooks, answering the setup challenge."""

    name = "dropbox"
    methods = frozenset({"GET", "POST"})

    def handshake(self, request: InboundRequest, source: SourceConfig) -> Reply | None:
        challenge = request.query.get("challenge", "")
        if request.method != "GET" or not challenge:
            return None
        if not challenge.isascii() or len(challenge) > _MAX_CHALLENGE:
            return None
        return Reply(
            200,
            challenge.encode("ascii"),
            "text/plain",
            headers={"X-Content-Type-Options": "nosniff"},
        )

    def verify(self, request: InboundRequest, source: SourceConfig, now: float) -> Accepted:
        if request.method != "POST":
            raise Refused("not a challenge nor a signed notification")
        signature = request.header("X-Dropbox-Signature")
        if not _HEX_SHA256.fullmatch(signature):
            raise Refused("malformed signature header")
        expected = [hmac_digest("sha256", utf8(s), request.body) for s in source.secrets]
        if not matches_any([bytes.fromhex(signature)], expected):
            raise Refused("signature mismatch")
        return Accepted("list_folder")


PROVIDERS: tuple[Provider, ...] = (Dropbox(),)
