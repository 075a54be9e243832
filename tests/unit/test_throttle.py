from broker.domain import (
    AttemptResult,
    Delivery,
    DeliveryState,
    Event,
    Lease,
    Subscription,
    VerificationMode,
)
from broker.throttle import SubscriptionThrottle

NOW = 1_700_000_000.0


def sub(sub_id: str, rate_limit: int = 0) -> Subscription:
    return Subscription(
        id=sub_id,
        url="https://example.com/hook",
        event_types=["*"],
        secret="whsec_" + "A" * 32,
        verification=VerificationMode.NONE,
        expire_time=NOW + 86400,
        rate_limit=rate_limit,
    )


def leases(subscription: Subscription, count: int, start: int = 0) -> list[Lease]:
    event = Event("evt_1", "a.b", b"{}", "application/json", {}, "", NOW)

    def delivery(i: int) -> Delivery:
        return Delivery(f"dlv_{subscription.id}_{i}", "evt_1", subscription.id, "a.b",
                        DeliveryState.PENDING, 0, NOW, "", 0, NOW, NOW)  # fmt: skip

    return [
        Lease(delivery(i), event, subscription, "lse_1", NOW + 60)
        for i in range(start, start + count)
    ]


def fill(throttle: SubscriptionThrottle, subscription: Subscription, start: int = 0) -> int:
    """Lease as much as the subscription has room for; how many that was."""
    room = throttle.room(subscription.id)
    throttle.leased(leases(subscription, room, start), NOW)
    return room


def test_a_new_subscription_starts_with_the_initial_window() -> None:
    throttle = SubscriptionThrottle(max_in_flight=256, initial_window=16)
    healthy = sub("sub_a")
    assert fill(throttle, healthy) == 16
    assert throttle.room(healthy.id) == 0
    assert throttle.blocked(NOW) == [healthy.id]


def test_answers_in_time_open_the_window_up_to_the_cap() -> None:
    throttle = SubscriptionThrottle(max_in_flight=20, initial_window=16)
    healthy = sub("sub_a")
    fill(throttle, healthy)
    # The first answer gives room to a subscription that was full.
    assert throttle.finished("dlv_sub_a_0", AttemptResult.SUCCEEDED) is True
    assert throttle.room(healthy.id) == 2  # one slot freed, window 17
    for i in range(1, 16):
        throttle.finished(f"dlv_sub_a_{i}", AttemptResult.FAILED)  # a 4xx is still an answer
    assert throttle.room(healthy.id) == 20
    assert throttle.blocked(NOW) == []


def test_a_hanging_endpoint_ends_up_holding_one_slot() -> None:
    throttle = SubscriptionThrottle(max_in_flight=256, initial_window=16)
    hanging, healthy = sub("sub_h"), sub("sub_a")
    fill(throttle, hanging)
    fill(throttle, healthy)
    for i in range(16):
        throttle.finished(f"dlv_sub_h_{i}", AttemptResult.TIMED_OUT)
    assert throttle.room(hanging.id) == 1
    # The lesson outlives the idle moment: the next lease is one request, not sixteen.
    assert hanging.id not in throttle.blocked(NOW)
    assert fill(throttle, hanging, 100) == 1
    assert throttle.blocked(NOW) == [hanging.id, healthy.id]
    throttle.finished("dlv_sub_h_100", AttemptResult.CONNECTION_ERROR)
    assert throttle.room(hanging.id) == 1


def test_throttling_answers_halve_the_window_and_success_reopens_it() -> None:
    throttle = SubscriptionThrottle(max_in_flight=64, initial_window=16)
    busy = sub("sub_b")
    fill(throttle, busy)
    throttle.finished("dlv_sub_b_0", AttemptResult.THROTTLED)
    assert throttle.room(busy.id) == 0  # window 8, with 15 still in flight
    for i in range(1, 16):
        throttle.finished(f"dlv_sub_b_{i}", AttemptResult.SUCCEEDED)
    assert throttle.room(busy.id) == 8 + 15


def test_finished_reports_reopening_only_for_a_full_subscription() -> None:
    throttle = SubscriptionThrottle(max_in_flight=256, initial_window=16)
    partial = sub("sub_p")
    throttle.leased(leases(partial, 4), NOW)
    assert throttle.finished("dlv_sub_p_0", AttemptResult.SUCCEEDED) is False
    assert throttle.finished("dlv_sub_p_unknown", AttemptResult.SUCCEEDED) is False


def test_rate_limit_caps_room_within_the_window() -> None:
    throttle = SubscriptionThrottle(max_in_flight=256, initial_window=16)
    limited = sub("sub_r", rate_limit=5)
    assert fill(throttle, limited) == 16  # unknown yet: the first lease learns the limit
    throttle.finished("dlv_sub_r_0", AttemptResult.SUCCEEDED)
    assert throttle.room(limited.id) == 0
    assert throttle.blocked(NOW) == [limited.id]
    assert throttle.next_opening() == NOW + 60
