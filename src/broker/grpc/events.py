"""`hookwire.v1.EventService`."""

from __future__ import annotations

from typing import Any

import grpc

from broker.domain import NewEvent, Role
from broker.errors import InvalidArgument, PermissionDenied
from broker.events import EventManager
from broker.grpc import convert
from broker.grpc.access import caller
from broker.publishing import Publisher, PublishLimits, validate_event
from hookwire.v1 import events_pb2 as pb
from hookwire.v1 import events_pb2_grpc as rpc

Context = grpc.aio.ServicerContext[Any, Any]


def check_may_publish(event_type: str, field: str) -> None:
    """A publisher limited to type patterns publishes nothing outside them."""
    who = caller()
    if not who.may_publish(event_type):
        allowed = ", ".join(who.event_types)
        raise PermissionDenied(
            f"{field}: token {who.token_id} may not publish {event_type!r}"
            f" (it may publish {allowed})"
        )


def validated(request: pb.PublishEventRequest, limits: PublishLimits) -> NewEvent:
    """The request as a NewEvent, or InvalidArgument naming its first bad field."""
    return validate_event(
        request.type,
        request.data,
        request.content_type,
        dict(request.attributes) if request.attributes else {},  # an empty map costs a dict
        request.idempotency_key,
        limits,
    )


class EventService(rpc.EventServiceServicer):
    def __init__(self, publisher: Publisher, events: EventManager) -> None:
        self._publisher = publisher
        self._events = events

    async def PublishEvent(
        self, request: pb.PublishEventRequest, context: Context
    ) -> pb.PublishEventResponse:
        event = validated(request, self._publisher.limits)
        check_may_publish(event.type, "type")
        [result] = await self._publisher.publish([event])
        return convert.publish_response_pb(result, request.include_data)

    async def PublishEvents(
        self, request: pb.PublishEventsRequest, context: Context
    ) -> pb.PublishEventsResponse:
        limits = self._publisher.limits
        if not request.events:
            raise InvalidArgument("events", "must not be empty")
        if len(request.events) > limits.max_batch:
            raise InvalidArgument("events", f"at most {limits.max_batch} per batch")
        events = []
        for index, item in enumerate(request.events):
            try:
                events.append(validated(item, limits))
            except InvalidArgument as exc:
                raise exc.within(f"events[{index}].") from None
        for index, event in enumerate(events):
            check_may_publish(event.type, f"events[{index}].type")
        results = await self._publisher.publish(events)
        return convert.publish_responses_pb(results, request.events)

    async def GetEvent(self, request: pb.GetEventRequest, context: Context) -> pb.GetEventResponse:
        if caller().role is Role.GATEWAY and not request.access_token:
            raise PermissionDenied("a gateway reads an event only with its fetch token")
        event = await self._events.get(request.id, request.access_token)
        return pb.GetEventResponse(event=convert.event_pb(event))

    async def ListEvents(
        self, request: pb.ListEventsRequest, context: Context
    ) -> pb.ListEventsResponse:
        events, token = await self._events.list_page(
            request.page_size, request.page_token, request.type
        )
        return pb.ListEventsResponse(
            events=[convert.event_pb(e) for e in events], next_page_token=token
        )
