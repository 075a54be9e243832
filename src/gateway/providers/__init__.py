"""Inbound webhook providers, one module each; every module lists its own in `PROVIDERS`."""

from __future__ import annotations

import importlib
import pkgutil

from gateway.providers.base import Provider


def registry() -> dict[str, Provider]:
    """Every provider by name, found by walking this package (so adding one is one module)."""
    found: dict[str, Provider] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name == "base":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for provider in getattr(module, "PROVIDERS", ()):
            if provider.name in found:
                raise RuntimeError(f"two providers are named {provider.name!r}")
            found[provider.name] = provider
    return found
