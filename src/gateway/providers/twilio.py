"""Twilio: `X-Twilio-Signature` is the base64 HMAC-SHA1 (auth token) of the URL Twilio
called followed by every POST form parameter, sorted by name, as `name+value`.

The URL is part of what is signed, so it must be the one Twilio used: set the `url`
option when a proxy rewrites scheme, host or port. JSON bodies are not signed directly:
Twilio puts `bodySHA256=<hex sha256(body)>` in the URL and signs the URL alone. As in
Twilio's own validators, the URL is tried with and without the scheme's default port,
because Twilio is inconsistent about including it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from gateway.providers.base import (
    Accepted,
    InboundRequest,
    Provider,
    Refused,
    ResolvedSource,
    hmac_digest,
    matches_any,
    no_challenge,
    utf8,
)

_HEX_SHA256 = re.compile(r"[0-9a-fA-F]{64}")
_DEFAULT_PORTS = {"https": 443, "http": 80}


class Twilio:
    """Authenticates Twilio voice/messaging callbacks (form bodies) and JSON-bodied webhooks."""

    name = "twilio"
    methods = frozenset({"POST"})
    challenge = staticmethod(no_challenge)

    def authenticate(self, request: InboundRequest, source: ResolvedSource, now: float) -> Accepted:
        presented = _decode(request.header("X-Twilio-Signature"))
        url = source.options.get("url") or request.url
        body_hash = _body_hash(url)
        params = b"" if body_hash is not None else _sorted_params(request)
        expected = [
            hmac_digest("sha1", utf8(s), utf8(candidate) + params)
            for s in source.secrets
            for candidate in _url_variants(url)
        ]
        if not matches_any([presented], expected):
            raise Refused("signature mismatch")
        if body_hash is None:
            return Accepted(_event_type(dict(request.form())), _idempotency_token(request))

        if not _HEX_SHA256.fullmatch(body_hash):
            raise Refused("malformed bodySHA256")
        actual = hashlib.sha256(request.body).hexdigest().encode()
        if not hmac.compare_digest(actual, body_hash.lower().encode()):
            raise Refused("body hash mismatch")
        return Accepted("event", _idempotency_token(request))


def _decode(value: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise Refused("malformed signature header") from None
    if len(raw) != hashlib.sha1().digest_size:
        raise Refused("malformed signature header")
    return raw


def _body_hash(url: str) -> str | None:
    """The `bodySHA256` query parameter, present only when Twilio sent a JSON body."""
    try:
        query = urlsplit(url).query
    except ValueError:
        raise Refused("malformed url") from None
    return dict(parse_qsl(query)).get("bodySHA256")


def _sorted_params(request: InboundRequest) -> bytes:
    """Names sorted (code point order); a repeated name's values sorted and de-duplicated,
    which is what Twilio's SDKs compute."""
    grouped: dict[str, set[str]] = {}
    for name, value in request.form():
        grouped.setdefault(name, set()).add(value)
    return "".join(
        name + value for name in sorted(grouped) for value in sorted(grouped[name])
    ).encode("utf-8")


def _url_variants(url: str) -> list[str]:
    """The URL as given, plus the same URL with its default port added or removed."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return [url]
    default = _DEFAULT_PORTS.get(parts.scheme)
    if default is None or not parts.hostname:
        return [url]
    host = parts.netloc.rpartition("@")[2]
    userinfo = parts.netloc[: len(parts.netloc) - len(host)]
    if port is None:
        other = f"{userinfo}{host}:{default}"
    elif port == default:
        other = userinfo + host.rsplit(":", 1)[0]
    else:
        return [url]
    return [url, urlunsplit(parts._replace(netloc=other))]


def _event_type(fields: dict[str, str]) -> str:
    """`sms` or `call` (plus the lower-cased status when given); `event` for anything else."""
    if fields.get("MessageSid"):
        kind, status = "sms", fields.get("SmsStatus") or fields.get("MessageStatus", "")
    elif fields.get("CallSid"):
        kind, status = "call", fields.get("CallStatus", "")
    else:
        return "event"
    return f"{kind}.{status.lower()}" if status else kind


def _idempotency_token(request: InboundRequest) -> str:
    return request.headers.get("I-Twilio-Idempotency-Token", "")


PROVIDERS: tuple[Provider, ...] = (Twilio(),)
