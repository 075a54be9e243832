"""What a valid inbound source looks like, per provider; each check names its field.

The broker validates sources when they are created so a mistake surfaces as
INVALID_ARGUMENT at once, not as every inbound request refused later. The gateway's
providers are the other half of this knowledge: they read exactly these options.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable

from broker.credentials import hmac_secret_key
from broker.errors import InvalidArgument
from broker.subscription_rules import HEADER_NAME

MAX_SECRET = 1024
MAX_OPTION = 1024
CONNECTOR = "connector"
_MATCHING = ("event_type_header", "id_header")
_SALESFORCE_ORG = re.compile(r"[A-Za-z0-9]{15}([A-Za-z0-9]{3})?")


def _plain(secret: str) -> str | None:
    return None


def _standard_webhooks(secret: str) -> str | None:
    if secret.startswith("whpk_"):
        return None
    try:
        hmac_secret_key(secret)
    except ValueError as exc:
        return f"{exc} (or be a whpk_ public key)"
    return None


def _pair(what: str) -> Callable[[str], str | None]:
    def check(secret: str) -> str | None:
        left, sep, right = secret.partition(":")
        return None if sep and left and right else f"must be {what}"

    return check


def _base64(secret: str) -> str | None:
    try:
        base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        return "must be the base64 security token Teams showed"
    return None


def _salesforce(secret: str) -> str | None:
    return None if _SALESFORCE_ORG.fullmatch(secret) else "must be a 15 or 18 character org id"


_HMAC_OPTIONS = frozenset(
    ("header", "algorithm", "encoding", "prefix", "timestamp_header", "template",
     "tolerance_seconds", *_MATCHING)
)  # fmt: skip

# provider → (secret check, option keys it reads)
PROVIDERS: dict[str, tuple[Callable[[str], str | None], frozenset[str]]] = {
    "github": (_plain, frozenset()),
    "stripe": (_plain, frozenset({"tolerance_seconds"})),
    "slack": (_plain, frozenset({"tolerance_seconds"})),
    "shopify": (_plain, frozenset()),
    "standard_webhooks": (_standard_webhooks, frozenset({"tolerance_seconds"})),
    "svix": (_standard_webhooks, frozenset({"tolerance_seconds"})),
    "twilio": (_plain, frozenset({"url"})),
    "dropbox": (_plain, frozenset()),
    "trello": (_plain, frozenset({"callback_url"})),
    "bitbucket": (_plain, frozenset()),
    "zendesk": (_plain, frozenset({"tolerance_seconds"})),
    "pusher": (_pair("<app key>:<app secret>"), frozenset()),
    "teams": (_base64, frozenset({"reply_text"})),
    "mailchimp": (_plain, frozenset()),
    "wordpress": (_plain, frozenset()),
    "salesforce": (_salesforce, frozenset()),
    "hmac": (_plain, _HMAC_OPTIONS),
    "basic_auth": (_pair("<user>:<password>"), frozenset(_MATCHING)),
    "api_key": (_plain, frozenset({"header", *_MATCHING})),
    CONNECTOR: (_plain, frozenset()),
}


def check_provider(field: str, provider: str) -> str:
    if provider not in PROVIDERS:
        raise InvalidArgument(field, f"must be one of {', '.join(sorted(PROVIDERS))}")
    return provider


def check_source_secret(field: str, provider: str, secret: str) -> str:
    if not secret:
        raise InvalidArgument(field, f"is required for {provider} sources")
    if len(secret) > MAX_SECRET:
        raise InvalidArgument(field, f"must be at most {MAX_SECRET} characters")
    problem = PROVIDERS[provider][0](secret)
    if problem:
        raise InvalidArgument(field, problem)
    return secret


def check_options(field: str, provider: str, options: dict[str, str]) -> dict[str, str]:
    known = PROVIDERS[provider][1]
    for key, value in options.items():
        where = f"{field}.{key}"
        if key not in known:
            allowed = ", ".join(sorted(known)) or "none"
            raise InvalidArgument(
                where, f"is not an option of {provider} sources (they take: {allowed})"
            )
        if len(value) > MAX_OPTION:
            raise InvalidArgument(where, f"must be at most {MAX_OPTION} characters")
        if key.endswith("header") and not HEADER_NAME.fullmatch(value):
            raise InvalidArgument(where, "must be an HTTP header name")
        if key == "tolerance_seconds" and not (value.isdigit() and 1 <= int(value) <= 86400):
            raise InvalidArgument(where, "must be whole seconds between 1 and 86400")
        if key == "algorithm" and value not in ("sha1", "sha256", "sha512"):
            raise InvalidArgument(where, "must be sha1, sha256 or sha512")
        if key == "encoding" and value not in ("hex", "base64"):
            raise InvalidArgument(where, "must be hex or base64")
        if key == "template" and "{body}" not in value:
            raise InvalidArgument(where, "must contain {body}")
        if key in ("url", "callback_url") and not value.startswith(("http://", "https://")):
            raise InvalidArgument(where, "must be an http(s) URL")
    if provider == "hmac" and not options.get("header"):
        raise InvalidArgument(f"{field}.header", "is required for hmac sources")
    if "{timestamp}" in options.get("template", "") and not options.get("timestamp_header"):
        raise InvalidArgument(f"{field}.timestamp_header", "is required when template signs it")
    return dict(options)
