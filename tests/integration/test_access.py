"""Who may call what: every hookwire.v1 RPC, called with no token, a wrong one, a revoked
one, an expired one and each role, answers the expected code and changes nothing when it
refuses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from broker.clock import ManualClock
from broker.grpc.access import RIGHTS
from broker.server import Broker
from hookwire.v1 import (
    deliveries_pb2,
    events_pb2,
    sources_pb2,
    subscriptions_pb2,
    tokens_pb2,
)
from tests.integration.test_lease_stream import FakeGatewayStream, wait_attached
from tests.support.in_process import GATEWAY_TOKEN, Api, connect, expect_rpc_error
from tests.support.waiting import eventually

ROLES = ("admin", "manager", "publisher", "reader", "gateway")
# Every unary RPC as (stub attribute, method, an empty request of its type).
UNARY: list[tuple[str, str, Any]] = [
    ("events", "PublishEvent", events_pb2.PublishEventRequest()),
    ("events", "PublishEvents", events_pb2.PublishEventsRequest()),
    ("events", "GetEvent", events_pb2.GetEventRequest()),
    ("events", "ListEvents", events_pb2.ListEventsRequest()),
    ("subscriptions", "CreateSubscription", subscriptions_pb2.CreateSubscriptionRequest()),
    ("subscriptions", "GetSubscription", subscriptions_pb2.GetSubscriptionRequest()),
    ("subscriptions", "ListSubscriptions", subscriptions_pb2.ListSubscriptionsRequest()),
    ("subscriptions", "UpdateSubscription", subscriptions_pb2.UpdateSubscriptionRequest()),
    ("subscriptions", "DeleteSubscription", subscriptions_pb2.DeleteSubscriptionRequest()),
    ("subscriptions", "RenewSubscription", subscriptions_pb2.RenewSubscriptionRequest()),
    ("subscriptions", "PauseSubscription", subscriptions_pb2.PauseSubscriptionRequest()),
    ("subscriptions", "ResumeSubscription", subscriptions_pb2.ResumeSubscriptionRequest()),
    (
        "subscriptions",
        "RotateSubscriptionSecret",
        subscriptions_pb2.RotateSubscriptionSecretRequest(),
    ),
    ("deliveries", "ListDeliveries", deliveries_pb2.ListDeliveriesRequest()),
    ("deliveries", "ListDeliveryAttempts", deliveries_pb2.ListDeliveryAttemptsRequest()),
    ("deliveries", "RetryDelivery", deliveries_pb2.RetryDeliveryRequest()),
    ("deliveries", "ReplayEvents", deliveries_pb2.ReplayEventsRequest()),
    ("sources", "CreateSource", sources_pb2.CreateSourceRequest()),
    ("sources", "GetSource", sources_pb2.GetSourceRequest()),
    ("sources", "ListSources", sources_pb2.ListSourcesRequest()),
    ("sources", "DeleteSource", sources_pb2.DeleteSourceRequest()),
    ("sources", "RotateSourceSecret", sources_pb2.RotateSourceSecretRequest()),
    ("sources", "ResolveSource", sources_pb2.ResolveSourceRequest()),
    ("tokens", "CreateToken", tokens_pb2.CreateTokenRequest()),
    ("tokens", "ListTokens", tokens_pb2.ListTokensRequest()),
    ("tokens", "RevokeToken", tokens_pb2.RevokeTokenRequest()),
]
SERVICES = {
    "events": "EventService",
    "subscriptions": "SubscriptionService",
    "deliveries": "DeliveryService",
    "sources": "SourceService",
    "tokens": "TokenService",
}
REFUSED = (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)


def allowed(role: str, stub: str, method: str) -> bool:
    """Whether the role may make this call as UNARY makes it (a gateway reads an event
    only with a THIN fetch token, which these empty requests lack)."""
    if (role, method) == ("gateway", "GetEvent"):
        return False
    return role.upper() in {r.value for r in RIGHTS[f"/hookwire.v1.{SERVICES[stub]}/{method}"]}


async def call(api: Api, stub: str, method: str, request: Any) -> grpc.StatusCode:
    """The code one call ends with (OK included)."""
    try:
        await getattr(getattr(api, stub), method)(request, timeout=5)
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


async def make_token(admin: Api, role: str, **fields: Any) -> tuple[str, str]:
    """(id, bearer) of a new stored token."""
    stub = admin.tokens
    token = tokens_pb2.Token(role=tokens_pb2.Role.Value(f"ROLE_{role.upper()}"), **fields)
    made = await stub.CreateToken(tokens_pb2.CreateTokenRequest(token=token))
    return made.token.id, made.secret


async def snapshot(admin: Api) -> tuple[int, ...]:
    """How many of each resource the store holds, read as admin."""
    tokens = admin.tokens
    return (
        len((await admin.events.ListEvents(events_pb2.ListEventsRequest(page_size=1000))).events),
        len(
            (
                await admin.subscriptions.ListSubscriptions(
                    subscriptions_pb2.ListSubscriptionsRequest(page_size=1000)
                )
            ).subscriptions
        ),
        len(await admin.deliveries_of()),
        len((await admin.sources.ListSources(sources_pb2.ListSourcesRequest())).sources),
        len((await tokens.ListTokens(tokens_pb2.ListTokensRequest(page_size=1000))).tokens),
    )


@pytest.fixture
async def world(api: Api) -> AsyncIterator[Api]:
    """The admin stubs, over a store with a subscription, an event and a source in it."""
    await api.create_subscription(event_types=["*"])
    await api.events.PublishEvent(events_pb2.PublishEventRequest(type="invoice.paid", data=b"{}"))
    await api.sources.CreateSource(
        sources_pb2.CreateSourceRequest(source=sources_pb2.Source(provider="github", secret="s"))
    )
    yield api


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_may_call_exactly_its_rpcs(broker: Broker, world: Api, role: str) -> None:
    _, bearer = await make_token(world, role)
    async with connect(broker, bearer) as caller:
        for stub, method, request in UNARY:
            before = await snapshot(world)
            code = await call(caller, stub, method, request)
            if allowed(role, stub, method):
                assert code not in REFUSED, f"{role} refused {method}: {code}"
            else:
                assert code == grpc.StatusCode.PERMISSION_DENIED, f"{role} {method}: {code}"
                assert await snapshot(world) == before, f"{role} {method} changed the store"


@pytest.mark.parametrize("bearer", ["", "hwk_01ABC_nope", "not-a-token", "Bearer"])
async def test_no_or_an_unknown_token_is_unauthenticated_everywhere(
    broker: Broker, world: Api, bearer: str
) -> None:
    before = await snapshot(world)
    async with connect(broker, bearer) as caller:
        for stub, method, request in UNARY:
            assert await call(caller, stub, method, request) == grpc.StatusCode.UNAUTHENTICATED
    assert await snapshot(world) == before


async def test_health_and_reflection_stay_open(broker: Broker) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    async with connect(broker, "") as anonymous:
        health = health_pb2_grpc.HealthStub(anonymous.channel)
        answer = await health.Check(health_pb2.HealthCheckRequest(service=""))
        assert answer.status == health_pb2.HealthCheckResponse.SERVING


async def test_a_revoked_token_is_refused_on_its_next_call(broker: Broker, world: Api) -> None:
    token_id, bearer = await make_token(world, "reader")
    async with connect(broker, bearer) as reader:
        assert await call(reader, "events", "ListEvents", events_pb2.ListEventsRequest()) == (
            grpc.StatusCode.OK
        )
        revoked = await world.tokens.RevokeToken(tokens_pb2.RevokeTokenRequest(id=token_id))
        assert revoked.token.HasField("revoke_time")
        for stub, method, request in UNARY:
            assert await call(reader, stub, method, request) == grpc.StatusCode.UNAUTHENTICATED


async def test_an_expired_token_is_refused(broker: Broker, world: Api, clock: ManualClock) -> None:
    expiry = Timestamp()
    expiry.FromNanoseconds(round((clock.now() + 60) * 1e9))
    _, bearer = await make_token(world, "reader", expire_time=expiry)
    async with connect(broker, bearer) as reader:
        request = events_pb2.ListEventsRequest()
        assert await call(reader, "events", "ListEvents", request) == grpc.StatusCode.OK
        clock.advance(61)
        assert await call(reader, "events", "ListEvents", request) == (
            grpc.StatusCode.UNAUTHENTICATED
        )


async def test_tokens_are_shown_once_and_listed_without_secrets(world: Api) -> None:
    token_id, bearer = await make_token(world, "publisher", description="billing")
    assert bearer.startswith("hwk_") and token_id.startswith("tok_")
    listed = await world.tokens.ListTokens(tokens_pb2.ListTokensRequest())
    [mine] = [t for t in listed.tokens if t.id == token_id]
    assert mine.description == "billing"
    assert bearer.rsplit("_", 1)[1] not in str(listed)


async def test_a_publisher_limited_to_patterns_publishes_nothing_outside_them(
    broker: Broker, world: Api
) -> None:
    _, bearer = await make_token(world, "publisher", event_types=["invoice.*"])
    before = await snapshot(world)
    async with connect(broker, bearer) as publisher:
        details = await expect_rpc_error(
            publisher.events.PublishEvent(events_pb2.PublishEventRequest(type="payment.x")),
            grpc.StatusCode.PERMISSION_DENIED,
            "type",
        )
        assert "invoice.*" in details
        batch = events_pb2.PublishEventsRequest(
            events=[
                events_pb2.PublishEventRequest(type="invoice.paid"),
                events_pb2.PublishEventRequest(type="payment.x"),
            ]
        )
        await expect_rpc_error(
            publisher.events.PublishEvents(batch),
            grpc.StatusCode.PERMISSION_DENIED,
            "events[1].type",
        )
        assert await snapshot(world) == before
        await publisher.events.PublishEvent(events_pb2.PublishEventRequest(type="invoice.paid"))


async def test_a_reader_sees_no_secret_anywhere(broker: Broker, world: Api) -> None:
    await world.sources.CreateSource(
        sources_pb2.CreateSourceRequest(source=sources_pb2.Source(provider="connector"))
    )
    _, bearer = await make_token(world, "reader")
    async with connect(broker, bearer) as reader:
        subs = await reader.subscriptions.ListSubscriptions(
            subscriptions_pb2.ListSubscriptionsRequest()
        )
        sources = await reader.sources.ListSources(sources_pb2.ListSourcesRequest())
    assert subs.subscriptions and all(not s.secret for s in subs.subscriptions)
    assert sources.sources and all(not s.secret for s in sources.sources)
    assert all(not s.ingest_url for s in sources.sources if s.provider == "connector")


async def test_lease_deliveries_refuses_every_role_but_gateway(broker: Broker, world: Api) -> None:
    for role in ("admin", "manager", "publisher", "reader"):
        _, bearer = await make_token(world, role)
        async with connect(broker, bearer) as caller:
            stream = FakeGatewayStream(caller, f"fake-{role}", credits=1)
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stream.receive()
            assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert broker.hub.sessions == []


async def test_a_revoked_gateways_stream_ends_and_its_work_goes_to_another(
    broker: Broker, world: Api, clock: ManualClock
) -> None:
    token_id, bearer = await make_token(world, "gateway")
    async with connect(broker, bearer) as doomed, connect(broker, GATEWAY_TOKEN) as healthy:
        first = FakeGatewayStream(doomed, "doomed", credits=1)
        await wait_attached(broker, 1)
        # The world's event was queued before any gateway: the doomed one leases it.
        [held] = (await first.receive()).deliveries

        await world.tokens.RevokeToken(tokens_pb2.RevokeTokenRequest(id=token_id))
        assert await asyncio.wait_for(first.call.read(), 10) is grpc.aio.EOF
        await eventually(lambda: broker.hub.sessions == [])

        clock.advance(broker.config.dispatch.lease_seconds + 1)  # its lease lapses
        second = FakeGatewayStream(healthy, "healthy", credits=1)
        [again] = (await second.receive()).deliveries
        assert again.delivery_id == held.delivery_id
        await second.close()
