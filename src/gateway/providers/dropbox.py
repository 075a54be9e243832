"""Dropbox: a GET `?challenge=` setup challenge, then POSTs signed in `X-Dropbox-Signature`
(hex HMAC-SHA256 of the raw body with the app secret).

The challenge is echoed unsigned, as Dropbox requires, but only as `text/plain` with
`nosniff` so the echo cannot be turned into a page. Notifications carry no id and no
content beyond "something changed for these accounts", so they need no deduplication.
"""

from __future__ import annotations

from gateway.providers.base import (
    Accepted,
    InboundRequest,
    Provider,
    Refused,
    Reply,
    ResolvedSource,
    check_body_hmac,
)

_MAX_CHALLENGE = 1024


class Dropbox:
    """Authenticates Dropbox app webhooks, answering the setup challenge."""

    name = "dropbox"
    methods = frozenset({"GET", "POST"})

    def challenge(self, request: InboundRequest, source: ResolvedSource) -> Reply | None:
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

    def authenticate(self, request: InboundRequest, source: ResolvedSource, now: float) -> Accepted:
        if request.method != "POST":
            raise Refused("not a challenge nor a signed notification")
        check_body_hmac(request, source, "X-Dropbox-Signature")
        return Accepted("list_folder")


PROVIDERS: tuple[Provider, ...] = (Dropbox(),)
