"""Pusher: HMAC-SHA256 of the body, hex, under the secret of the app named by X-Pusher-Key.

Each secret is `<app key>:<app secret>`, so a rotation may move to a new app key as well
as a new secret. Pusher sends no delivery id, but its bodies carry `time_ms`, so the
body's digest identifies a delivery: a byte-identical body is a replay.
"""

from __future__ import annotations

import hashlib

from gateway.providers.base import (
    Accepted,
    InboundRequest,
    Provider,
    Refused,
    ResolvedSource,
    check_hmac,
    decode_signature,
    no_challenge,
)


class Pusher:
    name = "pusher"
    methods = frozenset({"POST"})

    challenge = staticmethod(no_challenge)

    def authenticate(self, request: InboundRequest, source: ResolvedSource, now: float) -> Accepted:
        key = request.header("X-Pusher-Key")
        presented = decode_signature(request.header("X-Pusher-Signature"))
        app_secrets = [
            app_secret
            for app_key, _, app_secret in (entry.partition(":") for entry in source.secrets)
            if app_key == key and app_secret
        ]
        if not app_secrets:
            raise Refused("unknown X-Pusher-Key")
        check_hmac([presented], app_secrets, request.body)
        return Accepted(event_type(request), hashlib.sha256(request.body).hexdigest())


def event_type(request: InboundRequest) -> str:
    """The events' name when the batch holds one kind (e.g. `channel_occupied`), else `events`."""
    body = request.json()
    events = body.get("events") if isinstance(body, dict) else None
    if not isinstance(events, list):
        return "events"
    names = {_name(event) for event in events}
    name = names.pop() if len(names) == 1 else ""
    return name or "events"


def _name(event: object) -> str:
    name = event.get("name") if isinstance(event, dict) else None
    return name if isinstance(name, str) else ""


PROVIDERS: tuple[Provider, ...] = (Pusher(),)
