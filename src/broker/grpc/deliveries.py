"""`hookwire.v1.DeliveryService`, including the gateways' lease stream."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

import grpc

from broker.clock import Clock
from broker.deliveries import DeliveryManager
from broker.dispatcher import Dispatcher
from broker.domain import VerificationTask
from broker.errors import InvalidArgument
from broker.gateway_hub import GatewayHub, GatewaySession
from broker.grpc import convert
from broker.grpc.access import caller
from hookwire.v1 import deliveries_pb2 as pb
from hookwire.v1 import deliveries_pb2_grpc as rpc

Context = grpc.aio.ServicerContext[Any, Any]
log = logging.getLogger(__name__)


class DeliveryService(rpc.DeliveryServiceServicer):
    def __init__(
        self, deliveries: DeliveryManager, hub: GatewayHub, dispatcher: Dispatcher, clock: Clock
    ) -> None:
        self._deliveries = deliveries
        self._clock = clock
        self._hub = hub
        self._dispatcher = dispatcher

    async def ListDeliveries(
        self, request: pb.ListDeliveriesRequest, context: Context
    ) -> pb.ListDeliveriesResponse:
        deliveries, token = await self._deliveries.list_page(
            request.page_size,
            request.page_token,
            request.subscription_id,
            request.event_id,
            convert.DELIVERY_STATES.from_wire(request.state, "state"),
        )
        return pb.ListDeliveriesResponse(
            deliveries=[convert.delivery_pb(d) for d in deliveries], next_page_token=token
        )

    async def ListDeliveryAttempts(
        self, request: pb.ListDeliveryAttemptsRequest, context: Context
    ) -> pb.ListDeliveryAttemptsResponse:
        attempts, token = await self._deliveries.list_attempts(
            request.delivery_id, request.page_size, request.page_token
        )
        return pb.ListDeliveryAttemptsResponse(
            attempts=[convert.attempt_pb(a) for a in attempts], next_page_token=token
        )

    async def RetryDelivery(
        self, request: pb.RetryDeliveryRequest, context: Context
    ) -> pb.RetryDeliveryResponse:
        delivery = await self._deliveries.retry(request.id)
        return pb.RetryDeliveryResponse(delivery=convert.delivery_pb(delivery))

    async def ReplayEvents(
        self, request: pb.ReplayEventsRequest, context: Context
    ) -> pb.ReplayEventsResponse:
        if not request.HasField("start_time"):
            raise InvalidArgument("start_time", "is required")
        end = convert.seconds_if_set(request, "end_time")
        queued = await self._deliveries.replay(
            request.subscription_id, convert.seconds_of(request.start_time, "start_time"), end
        )
        return pb.ReplayEventsResponse(queued=queued)

    async def LeaseDeliveries(
        self, request_iterator: AsyncIterable[pb.LeaseDeliveriesRequest], context: Context
    ) -> AsyncIterator[pb.LeaseDeliveriesResponse]:
        session = self._hub.attach(context.peer(), caller().token_id)
        reader = asyncio.create_task(self._consume(session, request_iterator))
        timeout = self._dispatcher.settings.request_timeout
        try:
            while True:
                item = await session.outbox.get()
                if item is None:
                    break
                if isinstance(item, VerificationTask):
                    yield pb.LeaseDeliveriesResponse(
                        verifications=[convert.verification_task_pb(item)]
                    )
                else:
                    yield convert.leases_pb(item, timeout, self._clock.now())
        finally:
            reader.cancel()
            self._hub.detach(session)

    async def _consume(
        self, session: GatewaySession, requests: AsyncIterable[pb.LeaseDeliveriesRequest]
    ) -> None:
        try:
            async for request in requests:
                if request.gateway_id:
                    session.gateway_id = request.gateway_id
                if request.outcomes:
                    self._dispatcher.report([convert.outcome_from_pb(o) for o in request.outcomes])
                for verification in request.verifications:
                    self._hub.verified(
                        verification.id, convert.verification_result_from_pb(verification)
                    )
                self._hub.grant(session, request.credits)
        except (asyncio.CancelledError, grpc.aio.AioRpcError):
            pass
        finally:
            self._hub.detach(session)
