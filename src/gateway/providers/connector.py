"""Office 365 style connectors: the URL is the credential, the body a connector card.

The ingest URL ends in a generated token (256 random bits); whoever holds the URL may
post. A post must be a card Teams/Office 365 would render: a MessageCard (`@type`
MessageCard with `text` or `summary`), a message with card attachments (Adaptive Cards
carry `type: AdaptiveCard` and a `version`), or the plain `{"text": ...}` form. A
malformed card gets 400 saying what is missing, as Office 365 answers; success answers
`1`, as Office 365 does, so existing senders keep working.

The broker keeps only the SHA-256 (hex) of the credential and resolves that, so the
gateway hashes what it is shown before comparing (the broker's `hash_connector_token`;
a test pins the two together).
"""

from __future__ import annotations

import hashlib
from typing import Any

from gateway.providers.base import (
    Accepted,
    InboundRequest,
    Refused,
    Reply,
    ResolvedSource,
    is_a_secret,
)

ADAPTIVE = "application/vnd.microsoft.card.adaptive"


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _message_card_problem(card: dict[str, Any]) -> str | None:
    if not (_is_text(card.get("text")) or _is_text(card.get("summary"))):
        return "a MessageCard needs a summary or text"
    for key in ("sections", "potentialAction"):
        value = card.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            return f"{key} must be a list of objects"
    return None


def _attachment_problem(index: int, attachment: Any) -> str | None:
    where = f"attachments[{index}]"
    if not isinstance(attachment, dict):
        return f"{where} must be an object"
    if not _is_text(attachment.get("contentType")):
        return f"{where}.contentType is required"
    content = attachment.get("content")
    if not isinstance(content, dict):
        return f"{where}.content must be an object"
    if attachment["contentType"] == ADAPTIVE:
        if content.get("type") != "AdaptiveCard":
            return f"{where}.content.type must be AdaptiveCard"
        if not _is_text(content.get("version")):
            return f"{where}.content.version is required"
        if not isinstance(content.get("body", []), list):
            return f"{where}.content.body must be a list"
    return None


def card_problem(card: Any) -> str | None:
    """What keeps `card` from being a connector card, or None if it is one."""
    if not isinstance(card, dict):
        return "the body must be a JSON object"
    if str(card.get("@type", "")).lower() == "messagecard":
        return _message_card_problem(card)
    if card.get("type") == "message":
        attachments = card.get("attachments")
        if not isinstance(attachments, list) or not attachments:
            return "a message needs a non-empty attachments list"
        for index, attachment in enumerate(attachments):
            if problem := _attachment_problem(index, attachment):
                return problem
        return None
    if _is_text(card.get("text")):
        return None
    return "expected a MessageCard, a message with attachments, or a text"


def credential_hash(presented: bytes) -> str:
    """What the broker keeps of a connector credential."""
    return hashlib.sha256(presented).hexdigest()


class Connector:
    name = "connector"
    methods = frozenset({"POST"})

    def challenge(self, request: InboundRequest, source: ResolvedSource) -> Reply | None:
        return None

    def authenticate(self, request: InboundRequest, source: ResolvedSource, now: float) -> Accepted:
        presented = request.path_secret.encode()
        if not presented:
            raise Refused("missing connector credential")
        if not is_a_secret(credential_hash(presented).encode(), source.secrets):
            raise Refused("wrong connector credential")
        try:
            card = request.json()
        except Refused:
            card = None
        if problem := card_problem(card):
            return Accepted("message", publish=False, reply=Reply(400, problem.encode()))
        return Accepted("message", reply=Reply(200, b"1"))


PROVIDERS = (Connector(),)
