"""New signing material for subscriptions (Standard Webhooks formats).

`whsec_` is a shared HMAC secret; `whsk_`/`whpk_` is an Ed25519 pair whose private half
(seed ‖ public key, as svix-server stores it) never leaves the broker except to sign.
"""

from __future__ import annotations

import base64

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from broker.clock import RandomSource


def new_hmac_secret(rng: RandomSource) -> str:
    return "whsec_" + base64.b64encode(rng.token_bytes(32)).decode("ascii")


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
