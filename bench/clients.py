"""Thin async clients: the broker's gRPC API (generated stubs) and the sink's control endpoint.

Every call carries a timeout, and every wait is a bounded poll, so a stuck pipeline turns
into a TimeoutError (a FAIL), never a hang.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import grpc
import payload
from processes import ADMIN_TOKEN

from gateway.broker_channel import bearer_interceptors
from hookwire.v1 import deliveries_pb2 as dpb
from hookwire.v1 import deliveries_pb2_grpc as drpc
from hookwire.v1 import events_pb2 as epb
from hookwire.v1 import events_pb2_grpc as erpc
from hookwire.v1 import subscriptions_pb2 as spb
from hookwire.v1 import subscriptions_pb2_grpc as srpc

RPC_TIMEOUT = 30.0
GRPC_OPTIONS = [
    ("grpc.max_receive_message_length", 64 * 1024 * 1024),
    ("grpc.max_send_message_length", 64 * 1024 * 1024),
]


class CheckFailed(Exception):
    """A scenario's correctness check failed: the figure must not count."""


def check(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def event(event_type: str, seq: int, t_us: int | None = None) -> epb.PublishEventRequest:
    stamp = int(time.time() * 1e6) if t_us is None else t_us
    return epb.PublishEventRequest(type=event_type, data=payload.make(seq, stamp))


class Api:
    """The broker's three services over one channel; use as `async with Api(address)`."""

    def __init__(self, address: str) -> None:
        self.channel = grpc.aio.insecure_channel(
            address, options=GRPC_OPTIONS, interceptors=bearer_interceptors(ADMIN_TOKEN)
        )
        self.events = erpc.EventServiceStub(self.channel)
        self.subscriptions = srpc.SubscriptionServiceStub(self.channel)
        self.deliveries = drpc.DeliveryServiceStub(self.channel)

    async def __aenter__(self) -> Api:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.channel.close()

    async def subscribe(self, url: str, patterns: list[str]) -> str:
        """An ACTIVE subscription with no handshake and the shared benchmark secret."""
        sub = spb.Subscription(
            url=url,
            event_types=patterns,
            secret=payload.SECRET,
            verification=spb.VERIFICATION_MODE_NONE,
        )
        reply = await self.subscriptions.CreateSubscription(
            spb.CreateSubscriptionRequest(subscription=sub), timeout=RPC_TIMEOUT
        )
        check(reply.subscription.state == spb.SUBSCRIPTION_STATE_ACTIVE, "subscription not ACTIVE")
        return str(reply.subscription.id)

    async def publish_batch(self, requests: list[epb.PublishEventRequest]) -> list[str]:
        reply = await self.events.PublishEvents(
            epb.PublishEventsRequest(events=requests), timeout=RPC_TIMEOUT
        )
        check(len(reply.results) == len(requests), "PublishEvents answered a wrong count")
        check(not any(r.duplicate for r in reply.results), "fresh event reported duplicate")
        return [r.event.id for r in reply.results]

    async def pending(self, subscription_id: str = "") -> list[dpb.Delivery]:
        request = dpb.ListDeliveriesRequest(
            page_size=10, subscription_id=subscription_id, state=dpb.DELIVERY_STATE_PENDING
        )
        reply = await self.deliveries.ListDeliveries(request, timeout=RPC_TIMEOUT)
        return list(reply.deliveries)

    async def wait_recorded(self, subscription_id: str, limit: float) -> None:
        """Until no delivery of the subscription is pending (every outcome recorded)."""
        await poll(lambda: self.pending(subscription_id), lambda left: not left, limit,
                   f"deliveries of {subscription_id} still pending")  # fmt: skip

    async def check_attempts(self, subscription_id: str, sample: int = 3) -> None:
        """A sample of deliveries is DELIVERED after one recorded 200 attempt."""
        request = dpb.ListDeliveriesRequest(page_size=sample, subscription_id=subscription_id)
        reply = await self.deliveries.ListDeliveries(request, timeout=RPC_TIMEOUT)
        check(len(reply.deliveries) > 0, "no deliveries listed")
        for delivery in reply.deliveries:
            check(delivery.state == dpb.DELIVERY_STATE_DELIVERED, f"{delivery.id} not DELIVERED")
            attempts = await self.deliveries.ListDeliveryAttempts(
                dpb.ListDeliveryAttemptsRequest(delivery_id=delivery.id), timeout=RPC_TIMEOUT
            )
            check(
                [(a.status_code, a.result) for a in attempts.attempts]
                == [(200, dpb.ATTEMPT_RESULT_SUCCEEDED)],
                f"{delivery.id}: attempts recorded are not one 200",
            )

    async def check_stored(self, samples: list[tuple[str, bytes]]) -> None:
        """GetEvent returns exactly the bytes published for a sample of ids."""
        for event_id, data in samples:
            reply = await self.events.GetEvent(
                epb.GetEventRequest(id=event_id), timeout=RPC_TIMEOUT
            )
            check(reply.event.data == data, f"{event_id}: stored data differs from published")


async def poll(
    fetch: Callable[[], Any], done: Callable[[Any], bool], limit: float, what: str
) -> Any:
    """Call `fetch` every 50 ms until `done(result)`; TimeoutError naming `what` otherwise."""
    deadline = time.monotonic() + limit
    while True:
        result = await fetch()
        if done(result):
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"after {limit:.0f}s: {what}")
        await asyncio.sleep(0.05)


class SinkClient:
    """The sink's control endpoint; use as `async with SinkClient(port)`."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=RPC_TIMEOUT))

    async def __aenter__(self) -> SinkClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.session.close()

    async def _get(self, path: str) -> Any:
        async with self.session.get(self.base + path) as reply:
            reply.raise_for_status()
            return await reply.json()

    async def stats(self) -> dict[str, Any]:
        result: dict[str, Any] = await self._get("/_stats")
        return result

    async def records(self) -> list[tuple[str, str, float, float]]:
        """Every webhook received: (path, webhook-id, receipt time, latency seconds)."""
        reply = await self._get("/_records?since=0")
        return [tuple(r) for r in reply["records"]]

    async def reset(self) -> None:
        await self._get("/_reset")

    async def wait_count(self, count: int, limit: float, stall: float = 30.0) -> dict[str, Any]:
        """Until `count` webhooks arrived; gives up after `limit` seconds, or as soon as none
        has arrived for `stall` seconds (a stuck pipeline fails fast, not at the deadline)."""
        deadline, last, moved = time.monotonic() + limit, -1, time.monotonic()
        while True:
            stats = await self.stats()
            now = time.monotonic()
            if stats["count"] >= count:
                return stats
            if stats["count"] != last:
                last, moved = stats["count"], now
            if now > deadline or now - moved > stall:
                raise TimeoutError(
                    f"sink received {last} of {count} webhooks; none for {now - moved:.0f}s"
                )
            await asyncio.sleep(0.05)

    async def check_clean(self) -> dict[str, Any]:
        """No bad body and no bad signature, and at least one signature was verified."""
        stats = await self.stats()
        check(
            stats["bad"] == 0,
            f"sink saw {stats['bad']} bad webhooks, e.g. {stats['bad_examples'][:3]}",
        )
        check(stats["sig_checked"] > 0, "sink verified no signature")
        return stats


def check_exactly_once(
    records: list[tuple[str, str, float, float]], expected: set[str], what: str
) -> None:
    """Every expected event id arrived exactly once, and nothing else arrived."""
    ids = [r[1] for r in records]
    received = set(ids)
    missing, extra = expected - received, received - expected
    check(not missing, f"{what}: {len(missing)} of {len(expected)} events never arrived")
    check(not extra, f"{what}: {len(extra)} unexpected webhook ids arrived")
    check(len(ids) == len(received), f"{what}: {len(ids) - len(received)} duplicate deliveries")
