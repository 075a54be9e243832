"""Credentials the broker makes: subscriptions' signing material and THIN fetch tokens.

`whsec_` is a shared HMAC secret; `whsk_`/`whpk_` is an Ed25519 pair whose private half
(seed ‖ public key, as svix-server stores it) never leaves the broker except to sign
(Standard Webhooks formats).

A fetch token names the subscription and an expiry and carries an HMAC over
(subscription, event, expiry) keyed from the subscription's own secret, so only the
subscription that was sent a THIN notification can read the event back, and rotating the
secret revokes it (once the rotation's overlap ends).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from broker.clock import RandomSource
from broker.domain import Subscription

HMAC_SECRET_PREFIX = "whsec_"
FETCH_TOKEN_LIFETIME = 7 * 86400.0
_FETCH_TOKEN_VERSION = "ft1"


def new_hmac_secret(rng: RandomSource) -> str:
    return HMAC_SECRET_PREFIX + base64.b64encode(rng.token_bytes(32)).decode("ascii")


def hmac_secret_key(secret: str) -> bytes:
    """The key a `whsec_` secret encodes (24-64 bytes, base64); ValueError saying what is
    wrong with it otherwise."""
    if not secret.startswith(HMAC_SECRET_PREFIX):
        raise ValueError(f"must start with {HMAC_SECRET_PREFIX!r}")
    body = secret[len(HMAC_SECRET_PREFIX) :]
    try:
        key = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("must be base64 after the prefix") from None
    if not 24 <= len(key) <= 64:
        raise ValueError("must decode to 24-64 bytes")
    return key


def new_ed25519_pair(rng: RandomSource) -> tuple[str, str]:
    """(`whsk_` private, `whpk_` public)."""
    seed = rng.token_bytes(32)
    public = (
        Ed25519PrivateKey.from_private_bytes(seed)
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    )
    return (
        "whsk_" + base64.b64encode(seed + public).decode("ascii"),
        "whpk_" + base64.b64encode(public).decode("ascii"),
    )


def _mac(secret: str, subscription_id: str, event_id: str, expires: int) -> str:
    key = hashlib.sha256(b"hookwire-fetch-token:" + secret.encode()).digest()
    message = f"{subscription_id}.{event_id}.{expires}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def issue_fetch_token(sub: Subscription, event_id: str, now: float) -> str:
    expires = int(now + FETCH_TOKEN_LIFETIME)
    mac = _mac(sub.secret, sub.id, event_id, expires)
    return f"{_FETCH_TOKEN_VERSION}.{sub.id}.{expires}.{mac}"


def fetch_token_subscription(token: str) -> str | None:
    """The subscription id a well-formed fetch token names (not yet checked)."""
    parts = token.split(".")
    return parts[1] if len(parts) == 4 and parts[0] == _FETCH_TOKEN_VERSION else None


def check_fetch_token(token: str, sub: Subscription, event_id: str, now: float) -> bool:
    parts = token.split(".")
    if (
        len(parts) != 4
        or parts[0] != _FETCH_TOKEN_VERSION
        or parts[1] != sub.id
        or not parts[2].isdigit()
    ):
        return False
    expires = int(parts[2])
    if expires < now:
        return False
    return any(
        hmac.compare_digest(parts[3], _mac(secret, sub.id, event_id, expires))
        for secret in sub.signing_secrets(now)
    )
