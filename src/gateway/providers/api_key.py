"""A static API key in a header (option `header`, default X-API-Key).

When the header is Authorization the key may also come as `Bearer <key>`, the form
most senders' "custom header" settings produce. Type and delivery id come from the
options, like generic hmac.
"""

from __future__ import annotations

from gateway.providers.base import (
    Accepted,
    InboundRequest,
    Provider,
    Refused,
    ResolvedSource,
    is_a_secret,
    no_challenge,
    utf8,
)
from gateway.providers.generic_hmac import event_type_and_id

DEFAULT_HEADER = "X-API-Key"


class ApiKey:
    name = "api_key"
    methods = frozenset({"POST"})

    challenge = staticmethod(no_challenge)

    def authenticate(self, request: InboundRequest, source: ResolvedSource, now: float) -> Accepted:
        header = source.options.get("header", DEFAULT_HEADER)
        key = request.header(header).strip()
        if header.lower() == "authorization":
            scheme, _, token = key.partition(" ")
            if scheme.lower() == "bearer":
                key = token.strip()
        try:
            presented = utf8(key)
        except UnicodeEncodeError:
            raise Refused("malformed key") from None
        if not is_a_secret(presented, source.secrets):
            raise Refused("key mismatch")
        return Accepted(*event_type_and_id(request, source.options))


PROVIDERS: tuple[Provider, ...] = (ApiKey(),)
