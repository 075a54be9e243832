"""Standard gRPC health checking and server reflection on the broker's port."""

from __future__ import annotations

import grpc
from google.protobuf import descriptor_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from broker.server import Broker
from tests.support.in_process import Api, expect_rpc_error

HOOKWIRE_SERVICES = {
    "hookwire.v1.EventService",
    "hookwire.v1.SubscriptionService",
    "hookwire.v1.DeliveryService",
}


async def test_health_reports_serving_for_the_server_and_each_service(api: Api) -> None:
    health = health_pb2_grpc.HealthStub(api.channel)
    for service in ("", *sorted(HOOKWIRE_SERVICES)):
        response = await health.Check(health_pb2.HealthCheckRequest(service=service))
        assert response.status == health_pb2.HealthCheckResponse.SERVING, service


async def test_health_of_an_unknown_service_is_not_found(api: Api) -> None:
    health = health_pb2_grpc.HealthStub(api.channel)
    await expect_rpc_error(
        health.Check(health_pb2.HealthCheckRequest(service="hookwire.v1.NoSuchService")),
        grpc.StatusCode.NOT_FOUND,
    )


async def test_reflection_lists_the_hookwire_services(api: Api) -> None:
    reflection = reflection_pb2_grpc.ServerReflectionStub(api.channel)
    call = reflection.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    responses = [response async for response in call]

    [response] = responses
    names = {s.name for s in response.list_services_response.service}
    assert names >= HOOKWIRE_SERVICES
    assert "grpc.health.v1.Health" in names


async def test_reflection_serves_the_contract_descriptors(api: Api) -> None:
    reflection = reflection_pb2_grpc.ServerReflectionStub(api.channel)
    call = reflection.ServerReflectionInfo(
        iter(
            [
                reflection_pb2.ServerReflectionRequest(
                    file_containing_symbol="hookwire.v1.EventService"
                )
            ]
        )
    )
    [response] = [r async for r in call]
    protos = response.file_descriptor_response.file_descriptor_proto
    assert protos, response
    names = {descriptor_pb2.FileDescriptorProto.FromString(p).name for p in protos}
    assert "hookwire/v1/events.proto" in names


async def test_stopping_the_broker_stops_serving(start_broker) -> None:
    broker: Broker = await start_broker()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{broker.port}") as channel:
        health = health_pb2_grpc.HealthStub(channel)
        serving = await health.Check(health_pb2.HealthCheckRequest(service=""))
        assert serving.status == health_pb2.HealthCheckResponse.SERVING
        await broker.stop(grace=1.0)
        broker.port = 0  # tell the fixture it is stopped
        with_error = None
        try:
            answer = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=2)
        except grpc.aio.AioRpcError as exc:
            with_error = exc.code()
        else:
            assert answer.status != health_pb2.HealthCheckResponse.SERVING
        assert with_error in (None, grpc.StatusCode.UNAVAILABLE)
