"""Microsoft Teams outgoing webhook: `Authorization: HMAC <base64 HMAC-SHA256>` of the body,
keyed by the base64-decoded security token Teams showed when the webhook was created.

Teams waits at most 5 s and shows the answer in the channel, so the acceptance carries
the message to reply with (option `reply_text`).
"""

from __future__ import annotations

import base64
import json

from gateway.providers.base import (
    Accepted,
    InboundRequest,
    Provider,
    Refused,
    Reply,
    ResolvedSource,
    hmac_digest,
    matches_any,
    no_challenge,
)

DEFAULT_REPLY_TEXT = "Received."


class Teams:
    name = "teams"
    methods = frozenset({"POST"})

    challenge = staticmethod(no_challenge)

    def authenticate(self, request: InboundRequest, source: ResolvedSource, now: float) -> Accepted:
        scheme, _, value = request.header("Authorization").strip().partition(" ")
        if scheme.lower() != "hmac":
            raise Refused("Authorization is not HMAC")
        try:
            presented = base64.b64decode(value.strip(), validate=True)
        except ValueError:
            raise Refused("malformed signature") from None
        keys = [key for key in map(_token_key, source.secrets) if key]
        if not keys:
            raise Refused("no security token is valid base64")
        expected = [hmac_digest("sha256", key, request.body) for key in keys]
        if not matches_any([presented], expected):
            raise Refused("signature mismatch")
        activity = request.json()
        if not isinstance(activity, dict) or not isinstance(activity.get("type"), str):
            raise Refused("body is not an activity")
        delivery = activity.get("id")
        text = source.options.get("reply_text", DEFAULT_REPLY_TEXT)
        answer = json.dumps({"type": "message", "text": text}).encode()
        return Accepted(
            activity["type"],
            delivery if isinstance(delivery, str) else "",
            reply=Reply(200, answer, "application/json"),
        )


def _token_key(token: str) -> bytes:
    try:
        return base64.b64decode(token, validate=True)
    except ValueError:
        return b""


PROVIDERS: tuple[Provider, ...] = (Teams(),)
