"""Fetch tokens for THIN notifications.

A token names the subscription and an expiry and carries an HMAC over (subscription,
event, expiry) keyed from the subscription's own secret, so only the subscription that
was sent the notification can read the event back, and rotating the secret revokes it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from broker.domain import Subscription

TOKEN_LIFETIME = 7 * 86400.0
_VERSION = "ft1"


def _mac(secret: str, subscription_id: str, event_id: str, expires: int) -> str:
    key = hashlib.sha256(b"hookwire-fetch-token:" + secret.encode()).digest()
    message = f"{subscription_id}.{event_id}.{expires}".encode()
    digest = hmac.new(key, message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def issue(sub: Subscription, event_id: str, now: float) -> str:
    expires = int(now + TOKEN_LIFETIME)
    return f"{_VERSION}.{sub.id}.{expires}.{_mac(sub.secret, sub.id, event_id, expires)}"


def subscription_of(token: str) -> str | None:
    """The subscription id a well-formed token names (not yet checked)."""
    parts = token.split(".")
    return parts[1] if len(parts) == 4 and parts[0] == _VERSION else None


def check(token: str, sub: Subscription, event_id: str, now: float) -> bool:
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != _VERSION or parts[1] != sub.id or not parts[2].isdigit():
        return False
    expires = int(parts[2])
    if expires < now:
        return False
    secrets = [sub.secret]
    if sub.previous_secret and sub.previous_secret_expire_time > now:
        secrets.append(sub.previous_secret)
    return any(
        hmac.compare_digest(parts[3], _mac(secret, sub.id, event_id, expires)) for secret in secrets
    )
