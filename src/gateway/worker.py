"""The gateway's side of the lease stream.

It grants the broker as many credits as it has free slots, sends each leased delivery,
and returns outcomes (with the freed credits) in small coalesced batches. On drain it
stops granting credit, finishes what it holds, reports, and closes the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import grpc

from gateway.envelope import Webhook
from gateway.sender import WebhookSender
from gateway.verification import EndpointVerifier
from hookwire.v1 import deliveries_pb2 as dpb
from hookwire.v1 import deliveries_pb2_grpc as rpc

log = logging.getLogger(__name__)
RECONNECT_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)


class GatewayWorker:
    def __init__(
        self,
        channel: grpc.aio.Channel,
        sender: WebhookSender,
        verifier: EndpointVerifier,
        gateway_id: str,
        concurrency: int = 1024,
    ) -> None:
        self._stub = rpc.DeliveryServiceStub(channel)
        self._sender = sender
        self._verifier = verifier
        self._gateway_id = gateway_id
        self._concurrency = concurrency
        self._draining = asyncio.Event()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._outbox: asyncio.Queue[dpb.LeaseDeliveriesRequest | None] = asyncio.Queue()
        self._pending = dpb.LeaseDeliveriesRequest()
        self._flush_scheduled = False

    async def run(self) -> None:
        """Keep a stream open until drained; reconnect with backoff when it breaks."""
        failures = 0
        while not self._draining.is_set():
            try:
                await self._session()
                failures = 0
            except grpc.aio.AioRpcError as exc:
                if self._draining.is_set():
                    break
                delay = RECONNECT_DELAYS[min(failures, len(RECONNECT_DELAYS) - 1)]
                failures += 1
                log.warning("lease stream broke (%s); reconnecting in %.1fs", exc.code(), delay)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._draining.wait(), delay)

    async def drain(self) -> None:
        """Take no more work; finish and report what is in flight."""
        self._draining.set()
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)
        self._flush()
        self._outbox.put_nowait(None)

    async def _requests(self) -> AsyncIterator[dpb.LeaseDeliveriesRequest]:
        free = self._concurrency - len(self._in_flight)
        yield dpb.LeaseDeliveriesRequest(gateway_id=self._gateway_id, credits=free)
        while True:
            request = await self._outbox.get()
            if request is None:
                return
            yield request

    async def _session(self) -> None:
        self._outbox = asyncio.Queue()
        self._pending.credits = 0  # the opening message grants every free slot
        call = self._stub.LeaseDeliveries(self._requests())
        async for response in call:
            events = {event.id: event for event in response.events}
            targets = {target.subscription_id: target for target in response.targets}
            timeout = response.timeout.ToNanoseconds() / 1e9
            for delivery in response.deliveries:
                webhook = Webhook(
                    delivery, events[delivery.event_id], targets[delivery.subscription_id], timeout
                )
                self._start(self._deliver(webhook))
            for task in response.verifications:
                self._start(self._verify(task))

    def _start(self, coroutine: object) -> None:
        task = asyncio.ensure_future(coroutine)  # type: ignore[call-overload]
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)

    async def _deliver(self, webhook: Webhook) -> None:
        started, latency, outcome = await self._sender.send(webhook)
        # Filled in place in the pending request: no sub-message is built and copied in.
        reported = self._pending.outcomes.add(
            delivery_id=webhook.delivery.delivery_id,
            lease_id=webhook.delivery.lease_id,
            result=outcome.result,
            status_code=outcome.status_code,
            error=outcome.error,
            response_body=outcome.response_body,
        )
        reported.attempt_time.FromNanoseconds(int(started * 1e9))
        reported.latency.FromNanoseconds(int(latency * 1e9))
        if outcome.retry_after is not None:
            reported.retry_after.FromNanoseconds(int(outcome.retry_after * 1e9))
        if not self._draining.is_set():
            self._pending.credits += 1
        self._schedule_flush()

    async def _verify(self, task: dpb.VerificationTask) -> None:
        result = await self._verifier.perform(task)
        self._pending.verifications.add(
            id=task.id,
            verified=result.verified,
            detail=result.detail,
            allowed_rate=result.allowed_rate,
        )
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        """Coalesce reports finished in the same loop iteration into one message."""
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        pending = self._pending
        if pending.outcomes or pending.verifications or pending.credits:
            self._outbox.put_nowait(pending)
            self._pending = dpb.LeaseDeliveriesRequest()
