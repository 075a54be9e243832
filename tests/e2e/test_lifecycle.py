"""Subscription lifecycle as processes: `hookwire serve` (broker + gateway children) and a
real loopback subscriber that verifies signatures. Where time matters the broker takes it
from a TestClock (`HOOKWIRE_CLOCK_FILE`) that only the test moves; nothing sleeps."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from gateway.signing import SignatureError, verify
from hookwire.v1 import deliveries_pb2 as dpb
from hookwire.v1 import events_pb2 as epb
from hookwire.v1 import subscriptions_pb2 as spb
from tests.support.processes import RPC_TIMEOUT, Hookwire, TestClock
from tests.support.receivers import Received, ThreadedReceiver
from tests.support.waiting import eventually_sync

Serve = Callable[..., Hookwire]
DAY = 86400
HOUR = 3600
SWEEP_EVERY = {"HOOKWIRE_LIFECYCLE_INTERVAL": "0.1"}


@pytest.fixture
def clock(tmp_path: Path) -> TestClock:
    return TestClock(tmp_path / "clock")


def all_delivered(hw: Hookwire, subscription_id: str, count: int) -> list[dpb.Delivery]:
    """Wait until the subscription has exactly `count` deliveries, all DELIVERED."""

    def check() -> list[dpb.Delivery]:
        found = hw.list_deliveries(subscription_id=subscription_id)
        states = [dpb.DeliveryState.Name(d.state) for d in found]
        assert states == ["DELIVERY_STATE_DELIVERED"] * count, states
        return found

    return eventually_sync(check, what=f"{count} deliveries DELIVERED to {subscription_id}")


def received(receiver: ThreadedReceiver, path: str, webhook_id: str) -> Received:
    """The (one) answered, validly signed webhook `webhook_id` at `path`."""

    def check() -> Received:
        got = [r for r in receiver.answered(path, 200) if r.webhook_id == webhook_id]
        assert len(got) == 1, got
        assert got[0].signature_valid, got[0].signature_error
        return got[0]

    return eventually_sync(check, what=f"{webhook_id} received at {path}")


def signed_by(request: Received, entry: str, secret: str) -> bool:
    """Whether one `webhook-signature` entry of `request` verifies with `secret`."""
    headers = {**request.headers, "webhook-signature": entry}
    try:
        verify([secret], headers, request.body, now=int(time.time()))
    except SignatureError:
        return False
    return True


def rpc_error(call: Callable[[], object]) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as raised:
        call()
    return raised.value


# -- expiry ---------------------------------------------------------------------------------------


def test_expiry_warns_the_subscriber_then_expires_and_renew_revives(
    hookwire: Serve, receiver: ThreadedReceiver, clock: TestClock
) -> None:
    hw = hookwire(env={**clock.env, **SWEEP_EVERY})
    path = "/expiring"
    start = clock.now()
    lapse = int(start) + 2 * DAY
    sub = hw.create_subscription(
        receiver.url(path), ["invoice.*"], expire_time=Timestamp(seconds=lapse)
    )
    receiver.secrets[path] = sub.secret
    assert sub.expire_time.seconds == lapse
    before = hw.publish("invoice.paid", {"n": 1})
    received(receiver, path, before.id)
    all_delivered(hw, sub.id, 1)  # settled before time moves (a lease would fall due)

    clock.advance(1.5 * DAY)  # within a day of the end: the subscriber is warned

    def warning() -> Received:
        got = [r for r in receiver.answered(path, 200) if r.json()["type"].startswith("hookwire.")]
        assert got, "no lifecycle notification yet"
        return got[0]

    notice = eventually_sync(warning, what="hookwire.subscription.expiring delivered")
    assert notice.signature_valid, notice.signature_error
    body = notice.json()
    assert body["type"] == "hookwire.subscription.expiring"
    assert body["subscription_id"] == sub.id
    assert body["data"]["subscription_id"] == sub.id
    assert body["data"]["expire_time"] == lapse
    assert hw.get_subscription(sub.id).state == spb.SUBSCRIPTION_STATE_ACTIVE
    all_delivered(hw, sub.id, 2)

    clock.advance(DAY)  # past the end

    def expired_notice() -> epb.Event:
        listed = hw.events.ListEvents(
            epb.ListEventsRequest(type="hookwire.subscription.expired"), timeout=RPC_TIMEOUT
        ).events
        assert [json.loads(e.data)["subscription_id"] for e in listed] == [sub.id]
        return listed[0]

    eventually_sync(expired_notice, what="the sweep expired the subscription")
    assert hw.get_subscription(sub.id).state == spb.SUBSCRIPTION_STATE_EXPIRED
    after = hw.publish("invoice.paid", {"n": 2})
    # A publish answers once its deliveries are committed: none was queued for it.
    assert hw.list_deliveries(event_id=after.id) == []
    # Sweeps kept running meanwhile: still one warning, and nothing else arrived.
    assert [r.json()["type"] for r in receiver.requests(path)] == [
        "invoice.paid",
        "hookwire.subscription.expiring",
    ]
    error = rpc_error(
        lambda: hw.subscriptions.ResumeSubscription(
            spb.ResumeSubscriptionRequest(id=sub.id), timeout=RPC_TIMEOUT
        )
    )
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION

    renewed = hw.subscriptions.RenewSubscription(
        spb.RenewSubscriptionRequest(id=sub.id), timeout=RPC_TIMEOUT
    ).subscription
    assert renewed.state == spb.SUBSCRIPTION_STATE_ACTIVE
    assert renewed.expire_time.seconds == int(clock.now()) + 180 * DAY  # the injected "now"
    assert hw.get_subscription(sub.id).state == spb.SUBSCRIPTION_STATE_ACTIVE

    revived = hw.publish("invoice.paid", {"n": 3})
    assert received(receiver, path, revived.id).json()["data"] == {"n": 3}
    all_delivered(hw, sub.id, 3)
    assert after.id not in {r.webhook_id for r in receiver.requests(path)}


# -- pause and resume --------------------------------------------------------------------------


def test_pause_holds_and_resume_delivers_all_in_publish_order(
    hookwire: Serve, receiver: ThreadedReceiver
) -> None:
    # One gateway sending one request at a time, so the order of arrival is the order the
    # broker hands them out.
    hw = hookwire("--gateways", "1", env={"HOOKWIRE_GATEWAY_CONCURRENCY": "1"})
    held, control = "/held", "/control"
    sub = hw.create_subscription(receiver.url(held), ["held.*"])
    other = hw.create_subscription(receiver.url(control), ["control.*"])
    receiver.secrets.update({held: sub.secret, control: other.secret})

    paused = hw.subscriptions.PauseSubscription(
        spb.PauseSubscriptionRequest(id=sub.id), timeout=RPC_TIMEOUT
    ).subscription
    assert paused.state == spb.SUBSCRIPTION_STATE_PAUSED
    assert hw.get_subscription(sub.id).state == spb.SUBSCRIPTION_STATE_PAUSED
    published = [hw.publish("held.item", {"n": n}).id for n in range(8)]
    marker = hw.publish("control.ping", {})

    # The held deliveries are older: had they not been held, they would have gone first.
    received(receiver, control, marker.id)
    assert receiver.requests(held) == []
    queued = hw.list_deliveries(subscription_id=sub.id)
    assert sorted(d.event_id for d in queued) == sorted(published)
    assert {(d.state, d.attempt_count) for d in queued} == {(dpb.DELIVERY_STATE_PENDING, 0)}

    resumed = hw.subscriptions.ResumeSubscription(
        spb.ResumeSubscriptionRequest(id=sub.id), timeout=RPC_TIMEOUT
    ).subscription
    assert resumed.state == spb.SUBSCRIPTION_STATE_ACTIVE

    all_delivered(hw, sub.id, len(published))
    got = receiver.requests(held)
    assert [r.webhook_id for r in got] == published  # each once, oldest first
    assert [r.json()["data"]["n"] for r in got] == list(range(8))
    assert all(r.signature_valid and r.status == 200 for r in got)


# -- secret rotation -------------------------------------------------------------------------


def test_rotation_signs_with_both_secrets_during_the_overlap_then_only_the_new(
    hookwire: Serve, receiver: ThreadedReceiver, clock: TestClock
) -> None:
    hw = hookwire(env=clock.env)
    path = "/rotating"
    sub = hw.create_subscription(receiver.url(path), ["key.*"])
    old = sub.secret
    receiver.secrets[path] = old

    rotated = hw.subscriptions.RotateSubscriptionSecret(
        spb.RotateSubscriptionSecretRequest(id=sub.id, overlap=Duration(seconds=HOUR)),
        timeout=RPC_TIMEOUT,
    ).subscription
    new = rotated.secret
    assert new.startswith("whsec_") and new != old
    assert hw.get_subscription(sub.id).secret == ""

    during = received(receiver, path, hw.publish("key.during", {"n": 1}).id)
    all_delivered(hw, sub.id, 1)  # settled before time moves (a lease would fall due)
    assert len(during.signatures) == 2, during.signatures
    verified_by = [
        [name for name, secret in (("old", old), ("new", new)) if signed_by(during, e, secret)]
        for e in during.signatures
    ]
    assert sorted(verified_by) == [["new"], ["old"]]  # each entry with its own secret only

    clock.advance(HOUR + 1)  # the overlap is over
    receiver.secrets[path] = new

    after = received(receiver, path, hw.publish("key.after", {"n": 2}).id)
    assert len(after.signatures) == 1, after.signatures
    assert signed_by(after, after.signatures[0], new)
    assert not signed_by(after, after.signatures[0], old)
    all_delivered(hw, sub.id, 2)


# -- 410 Gone tells the hookwire.* subscribers -------------------------------------------------


def test_gone_disables_and_a_hookwire_subscriber_is_told(
    hookwire: Serve, receiver: ThreadedReceiver
) -> None:
    hw = hookwire()
    watch, gone = "/watch", "/gone"
    watcher = hw.create_subscription(receiver.url(watch), ["hookwire.*"])
    receiver.script(gone, [410])
    failing = hw.create_subscription(receiver.url(gone), ["user.*"])
    receiver.secrets.update({watch: watcher.secret, gone: failing.secret})

    event = hw.publish("user.deleted", {"user": 7})

    notice = eventually_sync(lambda: receiver.answered(watch, 200), what="notice at the watcher")[0]
    assert notice.signature_valid, notice.signature_error
    body = notice.json()
    assert body["type"] == "hookwire.subscription.disabled"
    assert body["subscription_id"] == watcher.id
    assert body["data"]["subscription_id"] == failing.id
    assert body["data"]["url"] == receiver.url(gone)
    assert "410" in body["data"]["reason"]
    disabled = hw.get_subscription(failing.id)
    assert disabled.state == spb.SUBSCRIPTION_STATE_DISABLED
    assert "410" in disabled.disabled_reason
    assert [(r.webhook_id, r.status) for r in receiver.requests(gone)] == [(event.id, 410)]
    all_delivered(hw, watcher.id, 1)
    assert len(receiver.requests(watch)) == 1


# -- replay ----------------------------------------------------------------------------------------


def test_replay_redelivers_exactly_the_window(hookwire: Serve, receiver: ThreadedReceiver) -> None:
    hw = hookwire()
    path = "/replay"
    sub = hw.create_subscription(receiver.url(path), ["replay.*"])
    receiver.secrets[path] = sub.secret
    events = []
    for n in range(5):
        events.append(hw.publish("replay.item", {"n": n}))
        if n == 2:
            hw.publish("other.item", {"n": n})  # inside the window, but not subscribed to
    all_delivered(hw, sub.id, 5)
    assert Counter(r.webhook_id for r in receiver.answered(path, 200)) == {e.id: 1 for e in events}

    # [events[1], events[3]): events[1] and events[2] exactly.
    answer = hw.deliveries.ReplayEvents(
        dpb.ReplayEventsRequest(
            subscription_id=sub.id,
            start_time=events[1].create_time,
            end_time=events[3].create_time,
        ),
        timeout=RPC_TIMEOUT,
    )
    assert answer.queued == 2

    all_delivered(hw, sub.id, 7)
    counts = Counter(r.webhook_id for r in receiver.answered(path, 200))
    assert counts == {e.id: 2 if i in (1, 2) else 1 for i, e in enumerate(events)}
    assert all(r.signature_valid for r in receiver.requests(path))
    replayed = receiver.requests(path)[5:]
    assert sorted(r.json()["data"]["n"] for r in replayed) == [1, 2]


# -- the clock seam itself -----------------------------------------------------------------------


def test_serve_refuses_a_clock_file_it_cannot_read(hookwire: Serve, tmp_path: Path) -> None:
    hw = hookwire(env={"HOOKWIRE_CLOCK_FILE": str(tmp_path / "no-such-clock")}, wait=False)
    assert hw.proc is not None
    assert hw.proc.wait(15) == 1
    hw.wait_stdout_closed(5)
    assert "broker listening" not in hw.stdout
    assert "HOOKWIRE_CLOCK_FILE" in hw.stderr() and "no-such-clock" in hw.stderr()
