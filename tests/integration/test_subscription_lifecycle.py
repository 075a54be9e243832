"""SubscriptionService lifecycle RPCs (Pause, Resume, Renew, RotateSubscriptionSecret),
expiry sweeps and Ed25519 signing, over a real broker, gateway and loopback receivers."""

from __future__ import annotations

import json
import time

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from broker.clock import ManualClock
from broker.dispatcher import DispatchSettings
from broker.lifecycle import LifecycleSettings
from broker.server import Broker
from gateway import signing
from hookwire.v1 import deliveries_pb2 as dpb
from hookwire.v1 import events_pb2 as epb
from hookwire.v1 import subscriptions_pb2 as spb
from tests.support.in_process import Api, connect, expect_rpc_error
from tests.support.receivers import answer_status
from tests.support.waiting import eventually

DAY = 86400
INVALID = grpc.StatusCode.INVALID_ARGUMENT
NOT_FOUND = grpc.StatusCode.NOT_FOUND
FAILED_PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
OTHER_SECRET = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="  # 32 bytes


async def get(api: Api, sub_id: str) -> spb.Subscription:
    return (
        await api.subscriptions.GetSubscription(spb.GetSubscriptionRequest(id=sub_id))
    ).subscription


async def publish(api: Api, event_type: str) -> str:
    response = await api.events.PublishEvent(epb.PublishEventRequest(type=event_type, data=b"{}"))
    return response.event.id


async def delivered(api: Api, sub_id: str, count: int) -> list[dpb.Delivery]:
    async def check() -> list[dpb.Delivery] | None:
        found = await api.deliveries_of(subscription_id=sub_id)
        done = [d for d in found if d.state == dpb.DELIVERY_STATE_DELIVERED]
        return found if len(found) == count == len(done) else None

    return await eventually(check)


async def notices(api: Api, event_type: str) -> list[epb.Event]:
    """Operational events of one type (the broker publishes them on its own bus)."""
    listed = await api.events.ListEvents(epb.ListEventsRequest(type=event_type))
    return list(listed.events)


# -- Pause / Resume ----------------------------------------------------------------------------


async def test_pause_holds_deliveries_and_resume_sends_them_oldest_first(
    api: Api, broker: Broker, start_gateway, start_receiver, clock: ManualClock
) -> None:
    receiver = await start_receiver(answer_status(200))
    base = f"http://127.0.0.1:{receiver.port}"
    held = await api.create_subscription(url=f"{base}/held", event_types=["held.*"])
    control = await api.create_subscription(url=f"{base}/control", event_types=["control.*"])

    paused = await api.subscriptions.PauseSubscription(spb.PauseSubscriptionRequest(id=held.id))
    assert paused.subscription.state == spb.SUBSCRIPTION_STATE_PAUSED
    assert (await get(api, held.id)).state == spb.SUBSCRIPTION_STATE_PAUSED
    first = await publish(api, "held.one")
    clock.advance(1)
    second = await publish(api, "held.two")
    clock.advance(1)
    await publish(api, "control.x")

    # One credit: held deliveries (older) would go out before the control one if not held.
    await start_gateway(broker, concurrency=1)
    await delivered(api, control.id, 1)
    assert [h.path for h in receiver.hits] == ["/control"]
    queued = await api.deliveries_of(subscription_id=held.id)
    assert [(d.state, d.attempt_count) for d in queued] == [(dpb.DELIVERY_STATE_PENDING, 0)] * 2

    resumed = await api.subscriptions.ResumeSubscription(spb.ResumeSubscriptionRequest(id=held.id))
    assert resumed.subscription.state == spb.SUBSCRIPTION_STATE_ACTIVE
    await delivered(api, held.id, 2)
    held_hits = [h for h in receiver.hits if h.path == "/held"]
    assert [h.headers["webhook-id"] for h in held_hits] == [first, second]


async def test_disabled_subscription_can_be_resumed_and_retried(
    api: Api, gateway: None, start_receiver
) -> None:
    receiver = await start_receiver(answer_status(410, 200))
    sub = await api.create_subscription(url=receiver.url)
    await publish(api, "a.b")

    async def disabled() -> spb.Subscription | None:
        current = await get(api, sub.id)
        return current if current.state == spb.SUBSCRIPTION_STATE_DISABLED else None

    await eventually(disabled)
    await expect_rpc_error(
        api.subscriptions.PauseSubscription(spb.PauseSubscriptionRequest(id=sub.id)),
        FAILED_PRECONDITION,
    )
    # The notice is published after the state change, so it may trail it a little.
    [notice] = await eventually(lambda: notices(api, "hookwire.subscription.disabled"))
    assert json.loads(notice.data)["subscription_id"] == sub.id

    resumed = (
        await api.subscriptions.ResumeSubscription(spb.ResumeSubscriptionRequest(id=sub.id))
    ).subscription
    assert resumed.state == spb.SUBSCRIPTION_STATE_ACTIVE
    assert resumed.disabled_reason == ""
    [failed] = await api.deliveries_of(subscription_id=sub.id)
    assert failed.state == dpb.DELIVERY_STATE_FAILED
    await api.deliveries.RetryDelivery(dpb.RetryDeliveryRequest(id=failed.id))
    await delivered(api, sub.id, 1)


async def test_pause_and_resume_unknown_are_not_found(api: Api) -> None:
    await expect_rpc_error(
        api.subscriptions.PauseSubscription(spb.PauseSubscriptionRequest(id="sub_nope")),
        NOT_FOUND,
    )
    await expect_rpc_error(
        api.subscriptions.ResumeSubscription(spb.ResumeSubscriptionRequest(id="sub_nope")),
        NOT_FOUND,
    )


# -- Renew and expiry -------------------------------------------------------------------------


async def test_renew_sets_the_new_end_within_the_maximum(api: Api, clock: ManualClock) -> None:
    sub = await api.create_subscription(expire_time=Timestamp(seconds=int(clock.now()) + DAY))
    clock.advance(3600)
    now = int(clock.now())

    def renew(**fields: object):
        request = spb.RenewSubscriptionRequest(id=sub.id, **fields)  # type: ignore[arg-type]
        return api.subscriptions.RenewSubscription(request)

    longest = (await renew()).subscription
    assert longest.expire_time == Timestamp(seconds=now + 180 * DAY)
    assert longest.secret == ""
    week = Timestamp(seconds=now + 7 * DAY)
    assert (await renew(expire_time=week)).subscription.expire_time == week
    assert (await get(api, sub.id)).expire_time == week

    await expect_rpc_error(renew(expire_time=Timestamp(seconds=now + 181 * DAY)), INVALID)
    await expect_rpc_error(renew(expire_time=Timestamp(seconds=now - 1)), INVALID)
    assert (await get(api, sub.id)).expire_time == week
    await expect_rpc_error(
        api.subscriptions.RenewSubscription(spb.RenewSubscriptionRequest(id="sub_nope")),
        NOT_FOUND,
    )


async def test_renew_error_names_the_request_field(api: Api, clock: ManualClock) -> None:
    sub = await api.create_subscription()
    too_late = Timestamp(seconds=int(clock.now()) + 181 * DAY)
    await expect_rpc_error(
        api.subscriptions.RenewSubscription(
            spb.RenewSubscriptionRequest(id=sub.id, expire_time=too_late)
        ),
        INVALID,
        "expire_time",
    )


async def test_expiry_sweep_warns_expires_and_renew_revives(
    start_broker, clock: ManualClock
) -> None:
    broker = await start_broker(lifecycle=LifecycleSettings(interval=0.02))
    async with connect(broker) as api:
        lapse = Timestamp(seconds=int(clock.now()) + 2 * DAY)
        sub = await api.create_subscription(event_types=["invoice.*"], expire_time=lapse)

        clock.advance(1.5 * DAY)  # within a day of the end: the subscriber is warned

        async def warned() -> list[dpb.Delivery]:
            found = await api.deliveries_of(subscription_id=sub.id)
            return [d for d in found if d.event_type == "hookwire.subscription.expiring"]

        [warning] = await eventually(warned)
        event = (await api.events.GetEvent(epb.GetEventRequest(id=warning.event_id))).event
        assert json.loads(event.data)["subscription_id"] == sub.id

        clock.advance(DAY)  # past the end

        async def expired() -> spb.Subscription | None:
            current = await get(api, sub.id)
            return current if current.state == spb.SUBSCRIPTION_STATE_EXPIRED else None

        await eventually(expired)
        [notice] = await eventually(lambda: notices(api, "hookwire.subscription.expired"))
        assert json.loads(notice.data)["subscription_id"] == sub.id
        await publish(api, "invoice.paid")
        assert len(await api.deliveries_of(subscription_id=sub.id)) == 1  # only the warning
        await expect_rpc_error(
            api.subscriptions.ResumeSubscription(spb.ResumeSubscriptionRequest(id=sub.id)),
            FAILED_PRECONDITION,
        )

        renewed = (
            await api.subscriptions.RenewSubscription(spb.RenewSubscriptionRequest(id=sub.id))
        ).subscription
        assert renewed.state == spb.SUBSCRIPTION_STATE_ACTIVE
        assert renewed.expire_time == Timestamp(seconds=int(clock.now()) + 180 * DAY)
        await publish(api, "invoice.paid")
        assert len(await api.deliveries_of(subscription_id=sub.id)) == 2


# -- RotateSubscriptionSecret -------------------------------------------------------------------


async def test_rotation_signs_with_both_secrets_until_the_overlap_ends(
    api: Api, gateway: None, start_receiver, clock: ManualClock
) -> None:
    receiver = await start_receiver(answer_status(200))
    sub = await api.create_subscription(url=receiver.url)
    old = sub.secret

    rotated = (
        await api.subscriptions.RotateSubscriptionSecret(
            spb.RotateSubscriptionSecretRequest(id=sub.id, overlap=Duration(seconds=3600))
        )
    ).subscription
    new = rotated.secret
    assert new.startswith("whsec_") and new != old
    assert (await get(api, sub.id)).secret == ""

    await publish(api, "a.b")
    await delivered(api, sub.id, 1)
    during = receiver.hits[-1]
    assert len(during.headers["webhook-signature"].split()) == 2
    for secret in (old, new):
        signing.verify([secret], during.headers, during.body, now=int(time.time()))

    clock.advance(2 * 3600)  # the overlap is over
    await publish(api, "a.b")
    await delivered(api, sub.id, 2)
    after = receiver.hits[-1]
    assert len(after.headers["webhook-signature"].split()) == 1
    signing.verify([new], after.headers, after.body, now=int(time.time()))
    with pytest.raises(signing.SignatureError):
        signing.verify([old], after.headers, after.body, now=int(time.time()))


async def test_rotation_to_a_supplied_secret_without_overlap(api: Api) -> None:
    sub = await api.create_subscription()
    rotated = (
        await api.subscriptions.RotateSubscriptionSecret(
            spb.RotateSubscriptionSecretRequest(
                id=sub.id, secret=OTHER_SECRET, overlap=Duration(seconds=0)
            )
        )
    ).subscription
    assert rotated.secret == OTHER_SECRET
    assert rotated.id == sub.id


async def test_rotation_errors(api: Api) -> None:
    sub = await api.create_subscription()

    def rotate(**fields: object):
        request = spb.RotateSubscriptionSecretRequest(**fields)  # type: ignore[arg-type]
        return api.subscriptions.RotateSubscriptionSecret(request)

    await expect_rpc_error(rotate(id="sub_nope"), NOT_FOUND)
    await expect_rpc_error(rotate(id=sub.id, overlap=Duration(seconds=-1)), INVALID, "overlap")
    await expect_rpc_error(rotate(id=sub.id, secret="not-a-secret"), INVALID)


async def test_rotation_error_names_the_request_field(api: Api) -> None:
    sub = await api.create_subscription()
    await expect_rpc_error(
        api.subscriptions.RotateSubscriptionSecret(
            spb.RotateSubscriptionSecretRequest(id=sub.id, secret="not-a-secret")
        ),
        INVALID,
        "secret",
    )


# -- Ed25519 -----------------------------------------------------------------------------------


async def test_ed25519_subscription_is_signed_verifiably_with_its_public_key(
    api: Api, gateway: None, start_receiver
) -> None:
    receiver = await start_receiver(answer_status(200))
    sub = await api.create_subscription(
        url=receiver.url, signing_algorithm=spb.SIGNING_ALGORITHM_ED25519
    )
    assert sub.secret == ""  # the private key never leaves the broker
    assert sub.public_key.startswith("whpk_")
    assert sub.signing_algorithm == spb.SIGNING_ALGORITHM_ED25519

    event_id = await publish(api, "a.b")
    await delivered(api, sub.id, 1)

    [hit] = receiver.hits
    assert hit.headers["webhook-signature"].startswith("v1a,")
    assert signing.verify([sub.public_key], hit.headers, hit.body, now=int(time.time())) == event_id


async def test_ed25519_refuses_a_supplied_secret(api: Api) -> None:
    await expect_rpc_error(
        api.subscriptions.CreateSubscription(
            spb.CreateSubscriptionRequest(
                subscription=spb.Subscription(
                    url="https://hooks.example.com/",
                    event_types=["*"],
                    verification=spb.VERIFICATION_MODE_NONE,
                    signing_algorithm=spb.SIGNING_ALGORITHM_ED25519,
                    secret=OTHER_SECRET,
                )
            )
        ),
        INVALID,
        "subscription.secret",
    )


# -- rate limit --------------------------------------------------------------------------------


async def test_rate_limit_holds_back_deliveries(
    start_broker, start_gateway, start_receiver, clock: ManualClock
) -> None:
    receiver = await start_receiver(answer_status(200))
    base = f"http://127.0.0.1:{receiver.port}"
    # A short max_idle lets the dispatcher notice promptly that the ManualClock moved.
    broker = await start_broker(dispatch=DispatchSettings(max_idle=0.02))
    async with connect(broker) as api:
        limited = await api.create_subscription(
            url=f"{base}/limited", event_types=["limited.*"], rate_limit=1
        )
        assert limited.rate_limit == 1
        control = await api.create_subscription(url=f"{base}/control", event_types=["control.*"])
        await publish(api, "limited.one")
        clock.advance(1)
        second = await publish(api, "limited.two")
        clock.advance(1)
        await publish(api, "control.x")

        # One credit: without a limit the second limited delivery goes out before the control.
        await start_gateway(broker, concurrency=1)
        await delivered(api, control.id, 1)
        assert [h.path for h in receiver.hits] == ["/limited", "/control"]

        clock.advance(61)  # a minute after the first one, the endpoint has room again
        await delivered(api, limited.id, 2)
        assert receiver.hits[-1].path == "/limited"
        assert receiver.hits[-1].headers["webhook-id"] == second


# -- Operational events and retention -----------------------------------------------------------


async def test_gone_endpoint_raises_disabled_event_for_hookwire_subscribers(
    api: Api, gateway: None, start_receiver
) -> None:
    gone = await start_receiver(answer_status(410))
    watcher = await start_receiver(answer_status(200))
    failing = await api.create_subscription(url=gone.url, event_types=["invoice.*"])
    await api.create_subscription(url=watcher.url, event_types=["hookwire.*"])

    await publish(api, "invoice.paid")

    hit = await eventually(lambda: watcher.hits[0] if watcher.hits else None)
    body = json.loads(hit.body)
    assert body["type"] == "hookwire.subscription.disabled"
    assert body["data"]["subscription_id"] == failing.id
    assert "410" in body["data"]["reason"]
    assert (await get(api, failing.id)).state == spb.SUBSCRIPTION_STATE_DISABLED


async def test_events_past_retention_are_purged_with_their_deliveries(
    start_broker, clock: ManualClock
) -> None:
    broker: Broker = await start_broker(lifecycle=LifecycleSettings(interval=0, retention=30 * DAY))
    async with connect(broker) as api:
        sub = await api.create_subscription(event_types=["a.*"])
        old = await publish(api, "a.old")
        clock.advance(20 * DAY)
        recent = await publish(api, "a.recent")
        clock.advance(11 * DAY)  # `old` is 31 days old, `recent` 11

        await broker.lifecycle.sweep()

        listed = await api.events.ListEvents(epb.ListEventsRequest(type="a.*"))
        assert [e.id for e in listed.events] == [recent]
        await expect_rpc_error(api.events.GetEvent(epb.GetEventRequest(id=old)), NOT_FOUND)
        remaining = await api.deliveries_of(subscription_id=sub.id)
        assert [d.event_id for d in remaining] == [recent]
