"""`hookwire.v1.EventService`."""

from __future__ import annotations

from typing import Any

import grpc

from broker import proto_convert as pc
from broker.catalog import Catalog
from broker.domain import NewEvent
from broker.errors import InvalidArgument
from broker.publishing import Publisher, PublishLimits, validate_event
from hookwire.v1 import events_pb2 as pb
from hookwire.v1 import events_pb2_grpc as rpc

Context = grpc.aio.ServicerContext[Any, Any]


def validated(req: pb.PublishEventRequest, limits: PublishLimits) -> NewEvent:
    """The request as a NewEvent, or InvalidArgument naming its first bad field."""
    return validate_event(
        req.type,
        req.data,
        req.content_type,
        dict(req.attributes) if req.attributes else {},  # an empty map costs a dict otherwise
        req.idempotency_key,
        limits,
    )


class EventApi(rpc.EventServiceServicer):
    def __init__(self, publisher: Publisher, catalog: Catalog) -> None:
        self._publisher = publisher
        self._catalog = catalog

    def _validate(self, req: pb.PublishEventRequest) -> NewEvent:
        return validated(req, self._publisher.limits)

    async def PublishEvent(
        self, request: pb.PublishEventRequest, context: Context
    ) -> pb.PublishEventResponse:
        [result] = await self._publisher.publish([self._validate(request)])
        return pc.publish_response_pb(result)

    async def PublishEvents(
        self, request: pb.PublishEventsRequest, context: Context
    ) -> pb.PublishEventsResponse:
        if not request.events:
            raise InvalidArgument("events", "must not be empty")
        if len(request.events) > self._publisher.limits.max_batch:
            raise InvalidArgument("events", f"at most {self._publisher.limits.max_batch} per batch")
        events = []
        for index, req in enumerate(request.events):
            try:
                events.append(self._validate(req))
            except InvalidArgument as exc:
                raise exc.within(f"events[{index}].") from None
        results = await self._publisher.publish(events)
        return pc.publish_responses_pb(results)

    async def GetEvent(self, request: pb.GetEventRequest, context: Context) -> pb.GetEventResponse:
        event = await self._catalog.get_event(request.id, request.access_token)
        return pb.GetEventResponse(event=pc.event_pb(event))

    async def ListEvents(
        self, request: pb.ListEventsRequest, context: Context
    ) -> pb.ListEventsResponse:
        events, token = await self._catalog.list_events(
            request.page_size, request.page_token, request.type
        )
        return pb.ListEventsResponse(events=[pc.event_pb(e) for e in events], next_page_token=token)
