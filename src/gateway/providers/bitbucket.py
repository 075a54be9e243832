"""Bitbucket Cloud: `X-Hub-Signature: sha256=<hex>`, an HMAC-SHA256 of the raw body.

Same header name as GitHub's legacy sha1 signature but a different algorithm, hence a
provider of its own. Nothing is timestamped; `X-Request-UUID` is the dedupe key.
"""

from __future__ import annotations

from gateway.providers.base import (
    Accepted,
    InboundRequest,
    Provider,
    SourceConfig,
    check_body_hmac,
    no_handshake,
)


class Bitbucket:
    """Verifies Bitbucket Cloud webhooks that have a secret set; `X-Event-Key` is the type."""

    name = "bitbucket"
    methods = frozenset({"POST"})
    handshake = staticmethod(no_handshake)

    def verify(self, request: InboundRequest, source: SourceConfig, now: float) -> Accepted:
        check_body_hmac(request, source, "X-Hub-Signature", prefix="sha256=")
        return Accepted(
            event_type=request.header("X-Event-Key"),
            delivery_id=request.headers.get("X-Request-UUID", ""),
        )


PROVIDERS: tuple[Provider, ...] = (Bitbucket(),)
