"""Test-side signers: each provider's documented algorithm, written independently of
`gateway.providers`, producing a request the real gateway must accept end to end.

Each module here defines `SIGNERS: tuple[Signer, ...]`; `all_signers()` collects them.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class SignedRequest:
    """A request as the provider would send it to `url` (the source's ingest URL)."""

    headers: Mapping[str, str]
    body: bytes
    method: str = "POST"
    query: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Signer:
    """How to make a genuine request for one provider.

    `sign(secret, url, now)` returns a request carrying a fresh payload each call, whose
    provider delivery id (if the provider has one) is `delivery_id` in the result of
    `sign`; `event_type` is the type the gateway must publish, without the source's prefix.
    `secret` is what CreateSource is given; `options` are the source's options.
    `signs_body` is False where the credential does not cover the body, so a tampered
    body is not detectable there.
    """

    provider: str
    secret: str
    sign: Callable[[str, str, int], SignedRequest]
    event_type: str
    options: Mapping[str, str] = field(default_factory=dict)
    has_delivery_id: bool = True
    signs_body: bool = True  # False for credential-only schemes (URL code, basic auth, key)


def all_signers() -> list[Signer]:
    found: list[Signer] = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        found.extend(getattr(module, "SIGNERS", ()))
    return found
