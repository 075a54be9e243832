"""DeliveryService.LeaseDeliveries, the gateways' stream, driven by a hand-written gRPC
client that plays the gateway, so the protocol itself is pinned down: credits, leases,
outcomes, lease expiry and verification tasks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from broker.clock import ManualClock
from broker.server import Broker
from hookwire.v1 import deliveries_pb2 as dpb
from hookwire.v1 import events_pb2 as epb
from hookwire.v1 import subscriptions_pb2 as spb
from tests.support.in_process import Api, expect_rpc_error
from tests.support.waiting import eventually


class FakeGatewayStream:
    """One LeaseDeliveries stream opened by the test, standing in for a gateway."""

    def __init__(self, api: Api, gateway_id: str, credits: int) -> None:
        self._requests: asyncio.Queue[dpb.LeaseDeliveriesRequest | None] = asyncio.Queue()
        self._requests.put_nowait(
            dpb.LeaseDeliveriesRequest(gateway_id=gateway_id, credits=credits)
        )
        self.call = api.deliveries.LeaseDeliveries(self._outgoing())

    async def _outgoing(self) -> AsyncIterator[dpb.LeaseDeliveriesRequest]:
        while (request := await self._requests.get()) is not None:
            yield request

    def send(self, **fields: object) -> None:
        self._requests.put_nowait(dpb.LeaseDeliveriesRequest(**fields))  # type: ignore[arg-type]

    async def receive(self) -> dpb.LeaseDeliveriesResponse:
        response = await asyncio.wait_for(self.call.read(), 10)
        assert response is not grpc.aio.EOF, "the broker closed the stream"
        return response  # type: ignore[return-value]

    async def close(self) -> None:
        self._requests.put_nowait(None)
        while await asyncio.wait_for(self.call.read(), 10) is not grpc.aio.EOF:
            pass  # drain until the broker ends its side


def outcome(lease: dpb.LeasedDelivery, status: int, result: int, **fields: object):
    return dpb.DeliveryOutcome(
        delivery_id=lease.delivery_id,
        lease_id=lease.lease_id,
        status_code=status,
        result=result,  # type: ignore[arg-type]
        attempt_time=Timestamp(seconds=1_700_000_000),
        latency=Duration(nanos=42_000_000),
        **fields,  # type: ignore[arg-type]
    )


async def wait_attached(broker: Broker, count: int) -> None:
    await eventually(lambda: len(broker.hub.sessions) == count)


async def test_lease_carries_event_subscription_and_signing_secret(
    api: Api, gateway_api: Api, broker: Broker
) -> None:
    sub = await api.create_subscription(url="https://hooks.example.com/x", event_types=["a.*"])
    stream = FakeGatewayStream(gateway_api, "fake-1", credits=1)
    await wait_attached(broker, 1)
    published = await api.events.PublishEvent(
        epb.PublishEventRequest(type="a.b", data=b'{"k":1}', include_data=True)
    )

    response = await stream.receive()
    [lease] = response.deliveries
    [event] = response.events
    [target] = response.targets

    assert event == published.event
    assert (lease.event_id, lease.subscription_id) == (event.id, sub.id)
    assert target.subscription_id == sub.id
    assert target.url == "https://hooks.example.com/x"
    assert list(target.signing_secrets) == [sub.secret]
    assert lease.lease_id
    assert lease.attempt_number == 1
    assert response.timeout.ToNanoseconds() > 0
    assert response.lease_expire_time.seconds > 0

    stream.send(outcomes=[outcome(lease, 204, dpb.ATTEMPT_RESULT_SUCCEEDED)], credits=1)

    async def delivered() -> dpb.Delivery | None:
        [d] = await api.deliveries_of(subscription_id=sub.id)
        return d if d.state == dpb.DELIVERY_STATE_DELIVERED else None

    delivery = await eventually(delivered)
    assert delivery.attempt_count == 1
    assert delivery.last_status_code == 204
    [attempt] = await api.attempts_of(delivery.id)
    assert attempt.status_code == 204
    assert attempt.attempt_time == Timestamp(seconds=1_700_000_000)
    assert attempt.latency == Duration(nanos=42_000_000)
    await stream.close()


async def test_expired_lease_is_handed_out_again_and_late_report_ignored(
    api: Api, gateway_api: Api, broker: Broker, clock: ManualClock
) -> None:
    sub = await api.create_subscription(event_types=["*"])
    first = FakeGatewayStream(gateway_api, "slow", credits=1)
    await wait_attached(broker, 1)
    await api.events.PublishEvent(epb.PublishEventRequest(type="a.b", data=b"{}"))
    [stale] = (await first.receive()).deliveries

    clock.advance(broker.config.dispatch.lease_seconds + 1)  # the first lease lapses
    second = FakeGatewayStream(gateway_api, "fast", credits=1)
    [fresh] = (await second.receive()).deliveries

    assert fresh.delivery_id == stale.delivery_id
    assert fresh.lease_id != stale.lease_id
    # The slow gateway's late failure, then the fresh success, in one ordered report.
    second.send(
        outcomes=[
            outcome(stale, 500, dpb.ATTEMPT_RESULT_FAILED),
            outcome(fresh, 200, dpb.ATTEMPT_RESULT_SUCCEEDED),
        ]
    )

    async def delivered() -> dpb.Delivery | None:
        [d] = await api.deliveries_of(subscription_id=sub.id)
        return d if d.state == dpb.DELIVERY_STATE_DELIVERED else None

    delivery = await eventually(delivered)
    assert delivery.attempt_count == 1
    assert [a.status_code for a in await api.attempts_of(delivery.id)] == [200]
    await first.close()
    await second.close()


async def test_verification_task_outcome_decides_create(
    api: Api, gateway_api: Api, broker: Broker
) -> None:
    stream = FakeGatewayStream(gateway_api, "verifier", credits=0)
    await wait_attached(broker, 1)
    request = spb.CreateSubscriptionRequest(
        subscription=spb.Subscription(
            url="https://hooks.example.com/y",
            event_types=["a.*"],
            verification=spb.VERIFICATION_MODE_ECHO_TOKEN,
        )
    )

    refused = asyncio.ensure_future(api.subscriptions.CreateSubscription(request))
    [task] = (await stream.receive()).verifications
    assert task.url == "https://hooks.example.com/y"
    assert task.mode == spb.VERIFICATION_MODE_ECHO_TOKEN
    assert task.token
    stream.send(
        verifications=[
            dpb.VerificationOutcome(id=task.id, verified=False, detail="endpoint said teapot")
        ]
    )
    details = await expect_rpc_error(refused, grpc.StatusCode.FAILED_PRECONDITION)
    assert "endpoint said teapot" in details

    accepted = asyncio.ensure_future(api.subscriptions.CreateSubscription(request))
    [task] = (await stream.receive()).verifications
    stream.send(verifications=[dpb.VerificationOutcome(id=task.id, verified=True)])
    sub = (await accepted).subscription
    assert sub.state == spb.SUBSCRIPTION_STATE_ACTIVE

    listed = await api.subscriptions.ListSubscriptions(spb.ListSubscriptionsRequest())
    assert [s.id for s in listed.subscriptions] == [sub.id]
    await stream.close()


async def test_gateway_leaving_mid_verification_fails_create(
    api: Api, gateway_api: Api, broker: Broker
) -> None:
    stream = FakeGatewayStream(gateway_api, "leaver", credits=0)
    await wait_attached(broker, 1)
    pending = asyncio.ensure_future(
        api.subscriptions.CreateSubscription(
            spb.CreateSubscriptionRequest(
                subscription=spb.Subscription(url="https://hooks.example.com/z", event_types=["*"])
            )
        )
    )
    await stream.receive()
    await stream.close()

    details = await expect_rpc_error(pending, grpc.StatusCode.FAILED_PRECONDITION)
    assert "disconnected" in details
    listed = await api.subscriptions.ListSubscriptions(spb.ListSubscriptionsRequest())
    assert list(listed.subscriptions) == []
