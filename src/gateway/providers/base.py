"""What every inbound provider implements, and the pieces they share.

A provider looks at one raw inbound request and either accepts it (naming the event
type and the provider's own delivery id) or refuses it with a reason. Authentication
always runs over the raw bytes, before any parsing, and compares in constant time.
The reason of a refusal is logged and counted by the gateway, never sent back: the
sender learns only "401".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import parse_qsl

from multidict import CIMultiDictProxy

DEFAULT_TOLERANCE = 300
MAX_TOLERANCE = 86400
TOLERANCE_PROBLEM = f"option 'tolerance_seconds' must be whole seconds from 1 to {MAX_TOLERANCE}"
_SEGMENT_JUNK = re.compile(r"[^A-Za-z0-9_-]+")


class Refused(Exception):
    """The request is not genuine (or is stale); `reason` is for logs and counters only."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class InboundRequest:
    """One request exactly as it arrived; `url` is the full URL the provider called."""

    method: str
    url: str
    headers: CIMultiDictProxy[str]
    query: Mapping[str, str]
    body: bytes
    path_secret: str = ""  # the path segment after the source id (connector URLs)

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    def header(self, name: str) -> str:
        """The header's value, or Refused naming the missing header."""
        value = self.headers.get(name, "")
        if not value:
            raise Refused(f"missing {name} header")
        return value

    def json(self) -> Any:
        """The body parsed as JSON (call only after authentication); Refused if it is not."""
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise Refused("body is not JSON") from None

    def form(self) -> list[tuple[str, str]]:
        """The body as an urlencoded form, in order, blanks kept."""
        try:
            return parse_qsl(
                self.body.decode("utf-8"), keep_blank_values=True, strict_parsing=False
            )
        except UnicodeDecodeError:
            raise Refused("form body is not UTF-8") from None


@dataclass(frozen=True, slots=True)
class ResolvedSource:
    """A source as the broker resolved it for one request: its provider, every secret
    currently valid (newest first; two during a rotation) and the provider's non-secret
    options."""

    id: str
    provider: str
    secrets: Sequence[str]
    options: Mapping[str, str] = field(default_factory=dict)
    ingest_url: str = ""
    event_type_prefix: str = ""


@dataclass(frozen=True, slots=True)
class Reply:
    """An answer the provider expects instead of the default acknowledgement."""

    status: int = 200
    body: bytes = b""
    content_type: str = "text/plain"
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Accepted:
    """A genuine request. `event_type` is the provider's own type (dots separate levels;
    `sanitize_type` makes it a valid Hookwire type); `delivery_id` is the provider's id
    for this delivery ("" when it has none), used to drop duplicates. With `publish`
    false (an authenticated setup challenge, like Slack's url_verification) nothing is
    published and `reply` is the whole answer."""

    event_type: str
    delivery_id: str = ""
    reply: Reply | None = None
    publish: bool = True


class Provider(Protocol):
    """One webhook provider's scheme: its setup challenge and how it authenticates."""

    name: str
    methods: frozenset[str]

    def challenge(self, request: InboundRequest, source: ResolvedSource) -> Reply | None:
        """Answer an unsigned setup challenge (Dropbox GET `?challenge=`, Trello HEAD), or None.

        Called before `authenticate` for every request; most providers return None.
        Challenges that arrive signed (Slack's url_verification, Mailchimp's GET ping) are
        answered by `authenticate` instead, with an `Accepted` that publishes nothing.
        """
        ...

    def authenticate(self, request: InboundRequest, source: ResolvedSource, now: float) -> Accepted:
        """Accept the request or raise Refused; `now` is the wall-clock instant (unix seconds)."""
        ...


# -- shared pieces -------------------------------------------------------------------------


def hmac_digest(algorithm: str, key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, getattr(hashlib, algorithm)).digest()


def matches_any(candidates: Sequence[bytes], expected: Sequence[bytes]) -> bool:
    """Constant-time: does any presented signature equal any expected one?"""
    found = False
    for presented in candidates:
        for wanted in expected:
            found |= hmac.compare_digest(presented, wanted)
    return found


def is_a_secret(presented: bytes, secrets: Sequence[str]) -> bool:
    """Constant-time: is `presented` one of `secrets` (as UTF-8)? For schemes that send
    the secret itself: an API key, a Basic credential, a code in the URL."""
    return matches_any([presented], [utf8(secret) for secret in secrets])


def decode_signature(value: str, encoding: str = "hex", prefix: str = "") -> bytes:
    """The signature bytes of a header value `<prefix><hex or base64>`; Refused if malformed."""
    if not value.startswith(prefix):
        raise Refused("signature lacks the expected prefix")
    text = value[len(prefix) :].strip()
    try:
        if encoding == "base64":
            return base64.b64decode(text, validate=True)
        return bytes.fromhex(text)
    except (ValueError, binascii.Error):
        raise Refused("malformed signature header") from None


def check_body_hmac(
    request: InboundRequest,
    source: ResolvedSource,
    header: str,
    *,
    algorithm: str = "sha256",
    encoding: str = "hex",
    prefix: str = "",
) -> None:
    """Refused unless `header` carries an HMAC of the raw body under one of the source's
    secrets: the scheme of GitHub, Bitbucket, Shopify, Dropbox and many more."""
    presented = decode_signature(request.header(header), encoding, prefix)
    check_hmac([presented], source.secrets, request.body, algorithm)


def check_hmac(
    presented: Sequence[bytes],
    secrets: Sequence[str],
    message: bytes,
    algorithm: str = "sha256",
) -> None:
    """Refused unless a presented signature is the HMAC of `message` keyed with one of
    `secrets` (as UTF-8), compared in constant time."""
    expected = [hmac_digest(algorithm, utf8(secret), message) for secret in secrets]
    if not matches_any(presented, expected):
        raise Refused("signature mismatch")


def check_timestamp(timestamp: str, now: float, tolerance: float) -> int:
    """The integer timestamp if it is within `tolerance` seconds of now; Refused otherwise."""
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > 15:
        raise Refused("malformed timestamp")
    value = int(timestamp)
    if abs(now - value) > tolerance:
        raise Refused("timestamp outside the tolerance window")
    return value


def tolerance_option(options: Mapping[str, str]) -> int | None:
    """The `tolerance_seconds` option (default 300 s), or None when it is malformed."""
    text = options.get("tolerance_seconds", str(DEFAULT_TOLERANCE))
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= MAX_TOLERANCE):
        return None
    return int(text)


def tolerance(options: Mapping[str, str]) -> int:
    """The replay window every timestamped scheme uses; Refused when misconfigured."""
    value = tolerance_option(options)
    if value is None:
        raise Refused(TOLERANCE_PROBLEM)
    return value


def utf8(secret: str) -> bytes:
    return secret.encode("utf-8")


def sanitize_type(raw: str) -> str:
    """A provider's event name as a Hookwire type: `orders/create` → `orders.create`,
    `repo:push` → `repo.push`; empty segments dropped; "" when nothing is left."""
    parts = (_SEGMENT_JUNK.sub("_", p).strip("_") for p in re.split(r"[./:\s]+", raw))
    return ".".join(p for p in parts if p)


def no_challenge(request: InboundRequest, source: ResolvedSource) -> Reply | None:
    """The `challenge` of a provider that sends no unsigned setup request."""
    return None


@dataclass(slots=True)  # not frozen: `Provider` declares plain attributes
class BodySignedProvider:
    """A provider whose scheme is all headers: an HMAC of the raw body in `signature`,
    the event type in `type_header`, its delivery id in `id_header` (Bitbucket, Shopify)."""

    name: str
    signature: str
    type_header: str
    id_header: str
    encoding: str = "hex"
    prefix: str = ""
    methods: frozenset[str] = frozenset({"POST"})

    def challenge(self, request: InboundRequest, source: ResolvedSource) -> Reply | None:
        return None

    def authenticate(self, request: InboundRequest, source: ResolvedSource, now: float) -> Accepted:
        check_body_hmac(request, source, self.signature, encoding=self.encoding, prefix=self.prefix)
        return Accepted(
            event_type=request.header(self.type_header),
            delivery_id=request.headers.get(self.id_header, ""),
        )
