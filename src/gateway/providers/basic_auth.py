"""HTTP Basic authentication: the secret is `user:password`, sent as
`Authorization: Basic base64(user:password)`.

The decoded credential is compared whole and in constant time, as bytes, so a sender's
charset never matters. Type and delivery id come from the options, like generic hmac.
"""

from __future__ import annotations

import base64

from gateway.providers.base import (
    Accepted,
    InboundRequest,
    Provider,
    Refused,
    ResolvedSource,
    is_a_secret,
    no_challenge,
)
from gateway.providers.generic_hmac import event_type_and_id


class BasicAuth:
    name = "basic_auth"
    methods = frozenset({"POST"})

    challenge = staticmethod(no_challenge)

    def authenticate(self, request: InboundRequest, source: ResolvedSource, now: float) -> Accepted:
        scheme, _, value = request.header("Authorization").strip().partition(" ")
        if scheme.lower() != "basic":
            raise Refused("Authorization is not Basic")
        try:
            credential = base64.b64decode(value.strip(), validate=True)
        except ValueError:
            raise Refused("malformed credential") from None
        if not is_a_secret(credential, source.secrets):
            raise Refused("credential mismatch")
        return Accepted(*event_type_and_id(request, source.options))


PROVIDERS: tuple[Provider, ...] = (BasicAuth(),)
