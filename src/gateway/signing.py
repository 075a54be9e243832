"""Standard Webhooks v1 signatures (symmetric ``v1`` and ed25519 ``v1a``).

Outbound deliveries are signed with every active secret of an endpoint so
receivers keep verifying while secrets rotate; inbound verification accepts
a message when any signature entry matches any configured secret. Errors
never echo secrets or signatures, because they end up in logs and responses.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

SYMMETRIC_PREFIX = "whsec_"
PRIVATE_KEY_PREFIX = "whsk_"
PUBLIC_KEY_PREFIX = "whpk_"

_TIMESTAMP_RE = re.compile(r"[0-9]{1,15}")


class SignatureError(Exception):
    """A webhook failed verification; ``reason`` is a short fixed phrase."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class _Keys:
    """Secrets decoded once per call, split by the entry version they handle."""

    hmac_keys: list[bytes] = field(default_factory=list)
    public_keys: list[Ed25519PublicKey] = field(default_factory=list)


def _b64decode(value: str, what: str) -> bytes:
    """Strict base64 that tolerates missing padding; errors name only ``what``."""
    try:
        return base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"invalid {what}: not base64") from None


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


@functools.lru_cache(maxsize=1024)
def _hmac_key(secret: str) -> bytes:
    """Decoded once per secret, not once per webhook (the cache holds what leases carry)."""
    key = _b64decode(secret[len(SYMMETRIC_PREFIX) :], "whsec_ secret")
    if not key:
        raise ValueError("invalid whsec_ secret: empty key")
    return key


def _private_key(secret: str) -> Ed25519PrivateKey:
    """Decode ``seed || public key`` (svix layout) and check the halves agree."""
    raw = _b64decode(secret[len(PRIVATE_KEY_PREFIX) :], "whsk_ secret")
    if len(raw) != 64:
        raise ValueError("invalid whsk_ secret: expected 64 bytes")
    key = Ed25519PrivateKey.from_private_bytes(raw[:32])
    if key.public_key().public_bytes_raw() != raw[32:]:
        raise ValueError("invalid whsk_ secret: public half does not match seed")
    return key


def _public_key(secret: str) -> Ed25519PublicKey:
    raw = _b64decode(secret[len(PUBLIC_KEY_PREFIX) :], "whpk_ key")
    if len(raw) != 32:
        raise ValueError("invalid whpk_ key: expected 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def _load_keys(secrets: Sequence[str]) -> _Keys:
    keys = _Keys()
    for secret in secrets:
        if secret.startswith(SYMMETRIC_PREFIX):
            keys.hmac_keys.append(_hmac_key(secret))
        elif secret.startswith(PRIVATE_KEY_PREFIX):
            keys.public_keys.append(_private_key(secret).public_key())
        elif secret.startswith(PUBLIC_KEY_PREFIX):
            keys.public_keys.append(_public_key(secret))
        else:
            raise ValueError("unsupported secret type: expected whsec_, whsk_ or whpk_")
    return keys


def _signed_content(msg_id: str, timestamp: int, body: bytes) -> bytes:
    return f"{msg_id}.{timestamp}.".encode() + body


def _hmac(key: bytes, content: bytes) -> bytes:
    return hmac.digest(key, content, "sha256")


def sign(secrets: Sequence[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """Return the ``webhook-signature`` value: one entry per secret, in order.

    A ``.`` in ``msg_id`` would let id and body bytes trade places inside the
    signed content, so it is refused rather than signed ambiguously.
    """
    if "." in msg_id:
        raise ValueError("message id must not contain '.'")
    content = _signed_content(msg_id, timestamp, body)
    entries: list[str] = []
    for secret in secrets:
        if secret.startswith(SYMMETRIC_PREFIX):
            mac = _hmac(_hmac_key(secret), content)
            entries.append("v1," + _b64encode(mac))
        elif secret.startswith(PRIVATE_KEY_PREFIX):
            signature = _private_key(secret).sign(content)
            entries.append("v1a," + _b64encode(signature))
        else:
            raise ValueError("cannot sign with this secret: expected whsec_ or whsk_")
    return " ".join(entries)


def _header(lowered: Mapping[str, str], name: str) -> str:
    value = lowered.get(name)
    if not value:
        raise SignatureError("missing header")
    return value


def _entry_matches(version: str, signature: str, content: bytes, keys: _Keys) -> bool:
    if version == "v1":
        given = signature.encode()
        return any(
            hmac.compare_digest(_b64encode(_hmac(key, content)).encode(), given)
            for key in keys.hmac_keys
        )
    if version == "v1a":
        try:
            raw = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            return False
        for key in keys.public_keys:
            try:
                key.verify(raw, content)
            except InvalidSignature:
                continue
            return True
    return False


def verify(
    secrets: Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: int,
    tolerance: int = 300,
    prefix: str = "webhook",
) -> str:
    """Check a signed request and return its message id (for deduplication).

    ``prefix="svix"`` verifies Svix's ``svix-*`` headers. Secrets are decoded
    before the headers are looked at so a misconfigured secret raises
    ``ValueError`` consistently instead of hiding behind ``SignatureError``.
    """
    keys = _load_keys(secrets)
    lowered = {name.lower(): value for name, value in headers.items()}
    msg_id = _header(lowered, f"{prefix}-id")
    raw_timestamp = _header(lowered, f"{prefix}-timestamp")
    signature_header = _header(lowered, f"{prefix}-signature")

    if "." in msg_id or not msg_id.isascii():
        raise SignatureError("invalid message id")
    if not _TIMESTAMP_RE.fullmatch(raw_timestamp):
        raise SignatureError("invalid timestamp")
    timestamp = int(raw_timestamp)
    if now - timestamp > tolerance:
        raise SignatureError("stale timestamp")
    if timestamp - now > tolerance:
        raise SignatureError("future timestamp")

    content = _signed_content(msg_id, timestamp, body)
    for entry in signature_header.split():
        version, sep, signature = entry.partition(",")
        if sep and _entry_matches(version, signature, content, keys):
            return msg_id
    raise SignatureError("no matching signature")


def generate_asymmetric_keypair() -> tuple[str, str]:
    """Return a fresh ``(whsk_..., whpk_...)`` pair in the svix key layout."""
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes_raw()
    seed = private.private_bytes_raw()
    return (
        PRIVATE_KEY_PREFIX + _b64encode(seed + public),
        PUBLIC_KEY_PREFIX + _b64encode(public),
    )
