"""The broker serves its services through generic handlers only (see GenericHandlers)."""

from __future__ import annotations

from broker.grpc.services import GenericHandlers
from hookwire.v1 import events_pb2_grpc, subscriptions_pb2_grpc


def test_generated_registrations_become_one_generic_handler_per_service() -> None:
    services = GenericHandlers()
    # The generated base servicers are plain classes at runtime; only their stubs (.pyi)
    # mark every method abstract.
    events_pb2_grpc.add_EventServiceServicer_to_server(
        events_pb2_grpc.EventServiceServicer(),  # type: ignore[abstract]
        services.server,
    )
    subscriptions_pb2_grpc.add_SubscriptionServiceServicer_to_server(
        subscriptions_pb2_grpc.SubscriptionServiceServicer(),  # type: ignore[abstract]
        services.server,
    )
    names = [handler.service_name() for handler in services.handlers]  # type: ignore[attr-defined]
    assert names == ["hookwire.v1.EventService", "hookwire.v1.SubscriptionService"]
