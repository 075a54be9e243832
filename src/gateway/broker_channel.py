"""The gateway's channel to the broker, with the gateway's API token on every call.

A gateway holds the `gateway` role: the only role the broker lets lease deliveries and
resolve source secrets. The token comes from `HOOKWIRE_GATEWAY_TOKEN` (or the file named
by `HOOKWIRE_GATEWAY_TOKEN_FILE`); `hookwire serve` hands its own gateways one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

from hookwire.client import TlsFiles


def _with_token(details: Any, header: tuple[str, str]) -> grpc.aio.ClientCallDetails:
    metadata = grpc.aio.Metadata(*(details.metadata or ()), header)
    return grpc.aio.ClientCallDetails(
        details.method, details.timeout, metadata, details.credentials, details.wait_for_ready
    )


class BearerToken(grpc.aio.UnaryUnaryClientInterceptor):
    """Adds `authorization: Bearer <token>` to every unary call's metadata.

    grpc.aio files each interceptor under one kind of call only (the first it is an
    instance of), so streams have their own (`StreamBearerToken`)."""

    def __init__(self, token: str) -> None:
        self.header = ("authorization", f"Bearer {token}")

    async def intercept_unary_unary(
        self, continuation: Callable[..., Any], client_call_details: Any, request: Any
    ) -> Any:
        return await continuation(_with_token(client_call_details, self.header), request)


class StreamBearerToken(grpc.aio.StreamStreamClientInterceptor):
    """`BearerToken` for bidirectional streams (the lease stream)."""

    def __init__(self, token: str) -> None:
        self.header = ("authorization", f"Bearer {token}")

    async def intercept_stream_stream(
        self, continuation: Callable[..., Any], client_call_details: Any, request_iterator: Any
    ) -> Any:
        return await continuation(_with_token(client_call_details, self.header), request_iterator)


def bearer_interceptors(token: str) -> list[Any]:
    """What a channel needs to call with `token` (nothing when it is empty)."""
    return [BearerToken(token), StreamBearerToken(token)] if token else []


def broker_channel(address: str, token: str, tls: TlsFiles | None = None) -> grpc.aio.Channel:
    """A channel to the broker carrying `token` (none when empty): TLS when `tls` says how
    to trust the broker (the certificate must name the host of `address`), else plain."""
    interceptors = bearer_interceptors(token) or None
    if tls is not None and tls.enabled:
        return grpc.aio.secure_channel(address, tls.credentials(), interceptors=interceptors)
    return grpc.aio.insecure_channel(address, interceptors=interceptors)
