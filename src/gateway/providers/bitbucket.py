"""Bitbucket Cloud: `X-Hub-Signature: sha256=<hex>`, an HMAC-SHA256 of the raw body.

Same header name as GitHub's legacy sha1 signature but a different algorithm, hence a
provider of its own. Nothing is timestamped; `X-Request-UUID` is the dedupe key.
"""

from __future__ import annotations

import re

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

_SIGNATURE = re.compile(r"sha256=[0-9a-fA-F]{64}")


class Bitbucket:
    """Verifies Bitbucket Cloud webhooks that have a secret set; `X-Event-Key` is the type."""

    name = "bitbucket"
    methods = frozenset({"POST"})
    handshake = staticmethod(no_handshake)

    def verify(self, request: InboundRequest, source: SourceConfig, now: float) -> Accepted:
        signature = request.header("X-Hub-Signature")
        if not _SIGNATURE.fullmatch(signature):
            raise Refused("malformed signature header")
        expected = [hmac_digest("sha256", utf8(s), request.body) for s in source.secrets]
        if not matches_any([bytes.fromhex(signature[7:])], expected):
            raise Refused("signature mismatch")
        return Accepted(
            event_type=request.header("X-Event-Key"),
            delivery_id=request.headers.get("X-Request-UUID", ""),
        )


PROVIDERS: tuple[Provider, ...] = (Bitbucket(),)
