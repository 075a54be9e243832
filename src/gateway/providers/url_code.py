"""Secret-in-URL providers (ASP.NET WebHooks style): `?code=<secret>` on every request.

Mailchimp and WordPress sign nothing, so the URL's `code` query parameter, compared in
constant time, is the only proof; the URL must therefore only ever be given over HTTPS.
Mailchimp checks a new webhook with a GET, which is authenticated like any request but not
published. One class serves both; they differ in methods and in where the type is.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.providers.base import (
    Accepted,
    InboundRequest,
    Provider,
    Refused,
    Reply,
    ResolvedSource,
    is_a_secret,
    no_challenge,
    utf8,
)


@dataclass(slots=True)
class UrlCode:
    """`type_field` names the body field holding the type; `default_type` is used when
    it is absent (None: the field is required)."""

    name: str
    methods: frozenset[str]
    type_field: str
    default_type: str | None = None

    challenge = staticmethod(no_challenge)

    def authenticate(self, request: InboundRequest, source: ResolvedSource, now: float) -> Accepted:
        code = request.query.get("code", "")
        if not code:
            raise Refused("missing code query parameter")
        try:
            presented = utf8(code)
        except UnicodeEncodeError:
            raise Refused("malformed code") from None
        if not is_a_secret(presented, source.secrets):
            raise Refused("code mismatch")
        if request.method == "GET":
            return Accepted("setup", reply=Reply(200), publish=False)
        kind = self._field(request)
        if kind:
            return Accepted(kind)
        if self.default_type is None:
            raise Refused(f"body has no {self.type_field} field")
        return Accepted(self.default_type)

    def _field(self, request: InboundRequest) -> str:
        """The type field of a JSON object body, else of the body read as a form."""
        if "json" in request.content_type.lower() or request.body.lstrip().startswith(b"{"):
            document = request.json()
            value = document.get(self.type_field) if isinstance(document, dict) else None
            return value if isinstance(value, str) else ""
        return next((value for key, value in request.form() if key == self.type_field), "")


PROVIDERS: tuple[Provider, ...] = (
    UrlCode("mailchimp", frozenset({"GET", "POST"}), type_field="type"),
    UrlCode("wordpress", frozenset({"POST"}), type_field="hook", default_type="post"),
)
