"""Configurable HMAC, for senders no dedicated provider knows.

The options say which header carries the signature, how it is computed (algorithm,
encoding, prefix, and a template placing an optional timestamp around the body) and
where the event type and delivery id come from. That last part is shared with the other
configurable schemes (basic_auth, api_key) and `tolerance_seconds` with zendesk, so each
option means the same everywhere. `option_problem` is the rule the broker mirrors.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping

from gateway.providers.base import (
    TOLERANCE_PROBLEM,
    Accepted,
    InboundRequest,
    Provider,
    Refused,
    ResolvedSource,
    check_hmac,
    check_timestamp,
    decode_signature,
    no_challenge,
    tolerance,
    tolerance_option,
    utf8,
)

OPTIONS = frozenset(
    {
        "header",
        "algorithm",
        "encoding",
        "prefix",
        "timestamp_header",
        "tolerance_seconds",
        "template",
        "event_type_header",
        "id_header",
    }
)
ALGORITHMS = ("sha1", "sha256", "sha512")
ENCODINGS = ("hex", "base64")
_PLACEHOLDER = re.compile(r"(\{timestamp\}|\{body\})")
_BRACED = re.compile(r"\{[^{}]*\}")
# An HTTP field name (RFC 9110 token); the broker checks with the same pattern.
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def option_problem(options: Mapping[str, str]) -> str | None:
    """What is wrong with an hmac source's options, naming the key; None if nothing."""
    for key in options:
        if key not in OPTIONS:
            return f"unknown option {key!r}"
    return _settings_problem(options)


def _settings_problem(options: Mapping[str, str]) -> str | None:
    """The checks on the keys `authenticate` reads; fixed phrases, so they can be refusal
    reasons."""
    if not options.get("header"):
        return "option 'header' is required"
    for key in ("header", "timestamp_header", "event_type_header", "id_header"):
        if key in options and not HEADER_NAME.fullmatch(options[key]):
            return f"option {key!r} must be an HTTP header name"
    if options.get("algorithm", "sha256") not in ALGORITHMS:
        return "option 'algorithm' must be sha1, sha256 or sha512"
    if options.get("encoding", "hex") not in ENCODINGS:
        return "option 'encoding' must be hex or base64"
    template = options.get("template", "{body}")
    if "{body}" not in template:
        return "option 'template' must contain {body}"
    if any(not _PLACEHOLDER.fullmatch(braced) for braced in _BRACED.findall(template)):
        return "option 'template' may use only {timestamp} and {body}"
    if "{timestamp}" in template and not options.get("timestamp_header"):
        return "option 'timestamp_header' is required when the template signs {timestamp}"
    if "tolerance_seconds" in options and tolerance_option(options) is None:
        return TOLERANCE_PROBLEM
    return None


def event_type_and_id(request: InboundRequest, options: Mapping[str, str]) -> tuple[str, str]:
    """Type from the `event_type_header` option's header, else a JSON body's string `type`,
    else `received`; delivery id from the `id_header` option's header, else ""."""
    type_header = options.get("event_type_header", "")
    kind = request.headers.get(type_header, "") if type_header else ""
    id_header = options.get("id_header", "")
    delivery = request.headers.get(id_header, "") if id_header else ""
    return kind or _json_type(request.body) or "received", delivery


def _json_type(body: bytes) -> str:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return ""
    kind = document.get("type") if isinstance(document, dict) else None
    return kind if isinstance(kind, str) else ""


class GenericHmac:
    name = "hmac"
    methods = frozenset({"POST"})

    challenge = staticmethod(no_challenge)

    def authenticate(self, request: InboundRequest, source: ResolvedSource, now: float) -> Accepted:
        options = source.options
        problem = _settings_problem(options)
        if problem:
            raise Refused(problem)
        presented = decode_signature(
            request.header(options["header"]),
            options.get("encoding", "hex"),
            options.get("prefix", ""),
        )
        timestamp = b""
        if options.get("timestamp_header"):
            text = request.header(options["timestamp_header"])
            if not text.isascii():
                raise Refused("malformed timestamp")
            check_timestamp(text, now, tolerance(options))
            timestamp = text.encode("ascii")
        signed = _signed_content(options.get("template", "{body}"), timestamp, request.body)
        algorithm = options.get("algorithm", "sha256")
        check_hmac([presented], source.secrets, signed, algorithm)
        return Accepted(*event_type_and_id(request, options))


def _signed_content(template: str, timestamp: bytes, body: bytes) -> bytes:
    """The template filled in on bytes, so the body is signed exactly as it arrived."""
    values = {"{timestamp}": timestamp, "{body}": body}
    return b"".join(values.get(part, utf8(part)) for part in _PLACEHOLDER.split(template))


PROVIDERS: tuple[Provider, ...] = (GenericHmac(),)
