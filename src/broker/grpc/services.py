"""The `hookwire.v1` services on one gRPC server, registered as generic handlers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import grpc

from broker.grpc.deliveries import DeliveryService
from broker.grpc.events import EventService
from broker.grpc.sources import SourceService
from broker.grpc.subscriptions import SubscriptionService
from broker.grpc.tokens import TokenService
from hookwire.v1 import (
    deliveries_pb2,
    deliveries_pb2_grpc,
    events_pb2,
    events_pb2_grpc,
    sources_pb2,
    sources_pb2_grpc,
    subscriptions_pb2,
    subscriptions_pb2_grpc,
    tokens_pb2,
    tokens_pb2_grpc,
)

SERVICE_NAMES = (
    events_pb2.DESCRIPTOR.services_by_name["EventService"].full_name,
    subscriptions_pb2.DESCRIPTOR.services_by_name["SubscriptionService"].full_name,
    deliveries_pb2.DESCRIPTOR.services_by_name["DeliveryService"].full_name,
    sources_pb2.DESCRIPTOR.services_by_name["SourceService"].full_name,
    tokens_pb2.DESCRIPTOR.services_by_name["TokenService"].full_name,
)


class GenericHandlers:
    """Keeps the generic handler that a generated `add_*Servicer_to_server` builds and drops
    its per-method registration.

    grpc.aio keeps one pending request per registered method and, for every call it accepts,
    waits on all of them (`asyncio.wait`): with our thirty methods that was about a tenth of
    the broker's main thread under load. Generic handlers share one pending request.
    """

    def __init__(self) -> None:
        self.handlers: list[grpc.GenericRpcHandler] = []

    @property
    def server(self) -> grpc.aio.Server:
        """Self, typed as what the generated functions accept (they call only the two below)."""
        return cast(grpc.aio.Server, self)

    def add_generic_rpc_handlers(self, handlers: Sequence[grpc.GenericRpcHandler]) -> None:
        self.handlers.extend(handlers)

    def add_registered_method_handlers(self, service: str, handlers: object) -> None:
        """Dropped on purpose: see the class docstring."""


def add_services(
    server: grpc.aio.Server,
    events: EventService,
    subscriptions: SubscriptionService,
    deliveries: DeliveryService,
    sources: SourceService,
    tokens: TokenService,
) -> None:
    collected = GenericHandlers()
    events_pb2_grpc.add_EventServiceServicer_to_server(events, collected.server)
    subscriptions_pb2_grpc.add_SubscriptionServiceServicer_to_server(
        subscriptions, collected.server
    )
    deliveries_pb2_grpc.add_DeliveryServiceServicer_to_server(deliveries, collected.server)
    sources_pb2_grpc.add_SourceServiceServicer_to_server(sources, collected.server)
    tokens_pb2_grpc.add_TokenServiceServicer_to_server(tokens, collected.server)
    server.add_generic_rpc_handlers(collected.handlers)
