"""Bitbucket Cloud: `X-Hub-Signature: sha256=<hex>`, an HMAC-SHA256 of the raw body.

Same header name as GitHub's legacy sha1 signature but a different algorithm, hence a
provider of its own. Authenticates webhooks that have a secret set. Nothing is timestamped;
`X-Request-UUID` is the dedupe key and `X-Event-Key` the event type.
"""

from __future__ import annotations

from gateway.providers.base import BodySignedProvider, Provider

PROVIDERS: tuple[Provider, ...] = (
    BodySignedProvider(
        name="bitbucket",
        signature="X-Hub-Signature",
        prefix="sha256=",
        type_header="X-Event-Key",
        id_header="X-Request-UUID",
    ),
)
