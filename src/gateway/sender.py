"""Sends one leased delivery as a signed POST and reports what happened.

httpx is the API; the transport is aiohttp's (measured several times cheaper per request
than httpx's default), with the SSRF guard on every socket it opens. httpx and aiohttp
errors stop here: a failure is an AttemptReport, never an exception.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

from gateway.address_guard import AddressPolicy, blocked_reason, guarded_connector
from gateway.envelope import USER_AGENT, body_for, headers_for
from gateway.outcome import AttemptReport, report_for_response
from hookwire.v1 import deliveries_pb2 as dpb

BODY_EXCERPT_BYTES = 4096


def make_client(policy: AddressPolicy, max_connections: int = 512) -> httpx.AsyncClient:
    """An httpx client that never follows redirects, ignores proxy settings, and refuses
    blocked addresses on the connection actually made."""

    def session() -> aiohttp.ClientSession:
        connector = guarded_connector(policy, limit=max_connections, limit_per_host=0)
        return aiohttp.ClientSession(connector=connector, trust_env=False)

    return httpx.AsyncClient(
        transport=AiohttpTransport(client=session),
        follow_redirects=False,
        trust_env=False,
        headers={"user-agent": USER_AGENT},
        timeout=httpx.Timeout(15.0),
    )


def describe_failure(exc: BaseException) -> tuple[dpb.AttemptResult.ValueType, str]:
    """The result and a short error for an exception raised by a request."""
    reason = blocked_reason(exc)
    if reason is not None:
        return dpb.ATTEMPT_RESULT_BLOCKED, reason
    if isinstance(exc, TimeoutError):
        return dpb.ATTEMPT_RESULT_TIMED_OUT, "timed out"
    cause = exc.__cause__
    if isinstance(cause, aiohttp.ClientConnectorError):
        return (
            dpb.ATTEMPT_RESULT_CONNECTION_ERROR,
            f"cannot connect: {cause.os_error.strerror or cause}",
        )
    if isinstance(exc, httpx.TimeoutException) or isinstance(
        cause, aiohttp.ServerTimeoutError | asyncio.TimeoutError
    ):
        return dpb.ATTEMPT_RESULT_TIMED_OUT, "timed out"
    detail = str(exc) or exc.__class__.__name__
    return dpb.ATTEMPT_RESULT_CONNECTION_ERROR, detail[:300]


class WebhookSender:
    def __init__(
        self,
        client: httpx.AsyncClient,
        fetch_base: str = "",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._client = client
        self._fetch_base = fetch_base
        self._clock = clock

    async def send(self, lease: dpb.LeasedDelivery) -> tuple[float, float, AttemptReport]:
        """(attempt start, latency seconds, report) for one attempt."""
        started = self._clock()
        timestamp = int(started)
        body = body_for(lease, self._fetch_base)
        headers = headers_for(lease, body, timestamp)
        timeout = lease.timeout.seconds + lease.timeout.nanos / 1e9 or 15.0
        tick = time.perf_counter()
        try:
            async with asyncio.timeout(timeout):
                report = await self._post(lease.subscription.url, headers, body)
        except Exception as exc:
            result, error = describe_failure(exc)
            report = AttemptReport(result, error=error)
        return started, time.perf_counter() - tick, report

    async def _post(self, url: str, headers: dict[str, str], body: bytes) -> AttemptReport:
        async with self._client.stream("POST", url, headers=headers, content=body) as response:
            excerpt = bytearray()
            async for chunk in response.aiter_raw():
                excerpt += chunk
                if len(excerpt) >= BODY_EXCERPT_BYTES:
                    break
            text = bytes(excerpt[:BODY_EXCERPT_BYTES]).decode("utf-8", "replace")
            return report_for_response(
                response.status_code, response.headers.get("retry-after"), text, self._clock()
            )

    async def aclose(self) -> None:
        await self._client.aclose()
