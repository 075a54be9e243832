"""Sends one webhook as a signed POST and reports what happened.

The client is aiohttp, with the SSRF guard on every socket it opens. httpx was measured
and left off this path: on this kind of machine its best transport (httpx over aiohttp)
spends about 270 µs of CPU per request against aiohttp's 70 µs, which caps one gateway
process below the pipeline's throughput target (`bench/transports.py`; README,
Performance). Client errors stop here: a failure is an Outcome, never an exception.
"""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp
import orjson

from gateway import WallTime
from gateway.address_guard import AddressPolicy, blocked_reason, guarded_connector
from gateway.envelope import USER_AGENT, Webhook, body_for, headers_for
from gateway.outcome import Outcome, outcome_for_response
from hookwire.v1 import deliveries_pb2 as dpb

BODY_EXCERPT_BYTES = 4096
log = logging.getLogger(__name__)


def make_session(policy: AddressPolicy, max_connections: int = 512) -> aiohttp.ClientSession:
    """A session that never follows redirects (per request), ignores proxy settings and
    cookies, does not decompress, and refuses blocked addresses on the connection made."""
    connector = guarded_connector(policy, limit=max_connections, limit_per_host=0)
    return aiohttp.ClientSession(
        connector=connector,
        cookie_jar=aiohttp.DummyCookieJar(),  # one endpoint's cookies never reach another
        trust_env=False,
        auto_decompress=False,
        headers={"user-agent": USER_AGENT},
        timeout=aiohttp.ClientTimeout(total=None),
    )


async def read_start(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """Up to `limit` bytes of the body; the rest is never read (or buffered)."""
    chunks = bytearray()
    while len(chunks) < limit and not response.content.at_eof():
        chunk = await response.content.read(limit - len(chunks))
        if not chunk:
            break
        chunks += chunk
    return bytes(chunks)


def describe_failure(exc: BaseException) -> tuple[dpb.AttemptResult.ValueType, str]:
    """The result and a short error for an exception raised by a request."""
    reason = blocked_reason(exc)
    if reason is not None:
        return dpb.ATTEMPT_RESULT_BLOCKED, reason
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return dpb.ATTEMPT_RESULT_TIMED_OUT, "timed out"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return (
            dpb.ATTEMPT_RESULT_CONNECTION_ERROR,
            f"cannot connect: {exc.os_error.strerror or exc}",
        )
    if isinstance(exc, aiohttp.InvalidURL):
        return dpb.ATTEMPT_RESULT_CONNECTION_ERROR, "invalid URL"
    detail = str(exc) or exc.__class__.__name__
    return dpb.ATTEMPT_RESULT_CONNECTION_ERROR, detail[:300]


class WebhookSender:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        fetch_base: str = "",
        wall_time: WallTime = time.time,
    ) -> None:
        self._session = session
        self._fetch_base = fetch_base
        self._wall_time = wall_time

    async def send(self, webhook: Webhook) -> tuple[float, float, Outcome]:
        """(attempt start, latency seconds, outcome) for one attempt."""
        started = self._wall_time()
        tick = time.perf_counter()
        try:
            body = body_for(webhook, self._fetch_base)
            headers = headers_for(webhook, body, int(started))
        except (ValueError, KeyError, orjson.JSONEncodeError) as exc:
            # A request we cannot build is a failed attempt, never a lost delivery.
            log.error("cannot build webhook %s: %s", webhook.delivery.delivery_id, exc)
            outcome = Outcome(dpb.ATTEMPT_RESULT_FAILED, error="gateway could not sign")
            return started, time.perf_counter() - tick, outcome
        try:
            async with asyncio.timeout(webhook.timeout or 15.0):
                outcome = await self._post(webhook.target.url, headers, body)
        except Exception as exc:
            result, error = describe_failure(exc)
            outcome = Outcome(result, error=error)
        return started, time.perf_counter() - tick, outcome

    async def _post(self, url: str, headers: dict[str, str], body: bytes) -> Outcome:
        async with self._session.post(
            url, data=body, headers=headers, allow_redirects=False
        ) as response:
            excerpt = await read_start(response, BODY_EXCERPT_BYTES)
            return outcome_for_response(
                response.status,
                response.headers.get("retry-after"),
                excerpt.decode("utf-8", "replace"),
                self._wall_time(),
            )
