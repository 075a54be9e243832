"""Standard Webhooks and Svix: the scheme `gateway.signing` already verifies.

Svix is the same scheme with `svix-` headers, except that whitelabelled Svix sends the
standard `webhook-` ones, so the `svix` provider takes either. Secrets are `whsec_`
(HMAC) or `whpk_` (ed25519 public key) entries; the timestamp must be within 5 minutes.
"""

from __future__ import annotations

import json

from gateway import signing
from gateway.providers.base import (
    Accepted,
    InboundRequest,
    Provider,
    Refused,
    ResolvedSource,
    no_challenge,
    tolerance,
)


class StandardWebhooks:
    """Authenticates one header family; `prefixes` are tried in order, the first present wins."""

    methods = frozenset({"POST"})
    challenge = staticmethod(no_challenge)

    def __init__(self, name: str, prefixes: tuple[str, ...]) -> None:
        self.name = name
        self.prefixes = prefixes

    def authenticate(self, request: InboundRequest, source: ResolvedSource, now: float) -> Accepted:
        prefix = self._prefix(request)
        try:
            msg_id = signing.verify(
                source.secrets,
                request.headers,
                request.body,
                now=int(now),
                tolerance=tolerance(source.options),
                prefix=prefix,
            )
        except signing.SignatureError as error:
            raise Refused(error.reason) from None
        except ValueError:  # only the secrets are left to be malformed
            raise Refused("source secret is not whsec_ or whpk_") from None
        return Accepted(_event_type(request.body), msg_id)

    def _prefix(self, request: InboundRequest) -> str:
        for prefix in self.prefixes:
            if request.headers.get(f"{prefix}-signature"):
                return prefix
        return self.prefixes[0]


def _event_type(body: bytes) -> str:
    """The payload's own `type` (or `eventType`); the scheme itself names none."""
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return "message"
    if isinstance(payload, dict):
        for key in ("type", "eventType"):
            if isinstance(payload.get(key), str) and payload[key]:
                return str(payload[key])
    return "message"


PROVIDERS: tuple[Provider, ...] = (
    StandardWebhooks("standard_webhooks", ("webhook",)),
    StandardWebhooks("svix", ("svix", "webhook")),
)
