"""Builders shared by the inbound provider tests (tests/unit/test_providers_*.py).

`inbound_request` is a webhook as the gateway receives it and `resolved_source` the source it
is addressed to; both default to source `src_1` at `https://hooks.example.com/in/src_1`.
Each test file wraps them with its own provider name, secret and body.
"""

from __future__ import annotations

from collections.abc import Mapping

from multidict import CIMultiDict, CIMultiDictProxy

from gateway.providers.base import InboundRequest, ResolvedSource

SOURCE_ID = "src_1"
URL = f"https://hooks.example.com/in/{SOURCE_ID}"


def inbound_request(
    headers: Mapping[str, str] | None = None,
    body: bytes = b"",
    *,
    method: str = "POST",
    url: str = URL,
    query: Mapping[str, str] | None = None,
) -> InboundRequest:
    """A request to `url` carrying exactly these headers (case-insensitive), query and body."""
    return InboundRequest(
        method=method,
        url=url,
        headers=CIMultiDictProxy(CIMultiDict(headers or {})),
        query={} if query is None else query,
        body=body,
    )


def resolved_source(
    provider: str,
    *secrets: str,
    options: Mapping[str, str] | None = None,
    ingest_url: str = "",
) -> ResolvedSource:
    """Source `src_1` of `provider` with these secrets (newest first) and options."""
    return ResolvedSource(
        id=SOURCE_ID,
        provider=provider,
        secrets=secrets,
        options={} if options is None else options,
        ingest_url=ingest_url,
    )
