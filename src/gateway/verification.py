"""Endpoint verification: proving, for the broker, that an endpoint wants its webhooks.

The broker sends a `VerificationTask` with a subscription's verification mode and the
gateway makes the request the mode prescribes: ECHO_TOKEN (SharePoint/Graph),
WEBSUB_CHALLENGE (WebSub intent verification) or CLOUDEVENTS_OPTIONS (CloudEvents
webhook abuse protection). Each answers whether the endpoint agreed and, if not, what it
answered, in words an operator can act on.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

import aiohttp

from gateway.outcome import http_error
from gateway.sender import describe_failure, read_start
from hookwire.v1 import deliveries_pb2 as dpb
from hookwire.v1 import subscriptions_pb2 as spb

MAX_ANSWER_BYTES = 1024


@dataclass(frozen=True, slots=True)
class VerificationResult:
    """Whether the endpoint agreed, what it answered (`detail`), and the rate it allows
    (CloudEvents `WebHook-Allowed-Rate`; 0 when it named none)."""

    verified: bool
    detail: str
    allowed_rate: int = 0


def with_query(url: str, params: dict[str, str]) -> str:
    """`url` with `params` appended to whatever query it already has."""
    parts = urlsplit(url)
    extra = urlencode(params)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def _quote(text: bytes) -> str:
    shown = text[:80].decode("utf-8", "replace")
    return repr(shown) + ("..." if len(text) > 80 else "")


class EndpointVerifier:
    """Performs verification tasks over the gateway's guarded session."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def perform(self, task: dpb.VerificationTask) -> VerificationResult:
        timeout = task.timeout.ToNanoseconds() / 1e9 or 5.0
        try:
            async with asyncio.timeout(timeout):
                return await self._perform(task)
        except Exception as exc:
            _, error = describe_failure(exc)
            if isinstance(exc, TimeoutError):
                error = f"no answer within {timeout:g}s"
            return VerificationResult(False, error)

    async def _perform(self, task: dpb.VerificationTask) -> VerificationResult:
        if task.mode == spb.VERIFICATION_MODE_WEBSUB_CHALLENGE:
            return await self._websub(task)
        if task.mode == spb.VERIFICATION_MODE_CLOUDEVENTS_OPTIONS:
            return await self._cloudevents(task)
        return await self._echo_token(task)

    async def _read(
        self, method: str, url: str, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, lower-cased headers, start of body); redirects are never followed."""
        async with self._session.request(
            method, url, headers=headers, data=b"", allow_redirects=False
        ) as response:
            body = await read_start(response, MAX_ANSWER_BYTES)
            answer_headers = {k.lower(): v for k, v in response.headers.items()}
            return response.status, answer_headers, body

    async def _echo_token(self, task: dpb.VerificationTask) -> VerificationResult:
        url = with_query(task.url, {"validationToken": task.token})
        status, _, body = await self._read(
            "POST", url, headers={"content-type": "text/plain; charset=utf-8"}
        )
        if status != 200:
            return VerificationResult(False, f"endpoint answered {http_error(status)}, not 200")
        if body.strip() != task.token.encode():
            return VerificationResult(False, f"endpoint answered {_quote(body)}, not the token")
        return VerificationResult(True, "token echoed")

    async def _websub(self, task: dpb.VerificationTask) -> VerificationResult:
        params = {
            "hub.mode": "subscribe",
            "hub.topic": task.topic,
            "hub.challenge": task.token,
            "hub.lease_seconds": str(task.lease.ToSeconds()),
        }
        status, _, body = await self._read("GET", with_query(task.url, params))
        if not 200 <= status < 300:
            return VerificationResult(False, f"endpoint answered {http_error(status)}")
        if body.strip() != task.token.encode():
            return VerificationResult(False, f"endpoint answered {_quote(body)}, not the challenge")
        return VerificationResult(True, "challenge echoed")

    async def _cloudevents(self, task: dpb.VerificationTask) -> VerificationResult:
        status, headers, _ = await self._read(
            "OPTIONS", task.url, headers={"WebHook-Request-Origin": task.origin}
        )
        if not 200 <= status < 300:
            return VerificationResult(False, f"endpoint answered {http_error(status)}")
        allowed = headers.get("webhook-allowed-origin", "")
        if allowed.strip() not in (task.origin, "*"):
            shown = repr(allowed) if allowed else "no WebHook-Allowed-Origin"
            return VerificationResult(False, f"endpoint allowed {shown}, not {task.origin!r}")
        rate = headers.get("webhook-allowed-rate", "").strip()
        return VerificationResult(True, "origin allowed", int(rate) if rate.isdigit() else 0)
