"""Per-subscription admission for leasing: how many deliveries may be in flight, and the
endpoint's announced rate (requests per minute).

The in-flight window adapts like TCP's congestion window: it opens by one for every
attempt the endpoint answered in time and halves when an attempt times out, cannot
connect, or is throttled (429/502/503/504), between 1 and `max_in_flight`. A new or
recently idle subscription starts at `initial_window`. A hanging endpoint thus ends up
holding a slot or two of the gateways' capacity instead of `max_in_flight`, and a
subscription at its window or rate is simply left out of the next lease query until it
has room again.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from broker.domain import AttemptResult, Lease

RATE_WINDOW = 60.0
STRUGGLING = frozenset(
    {AttemptResult.TIMED_OUT, AttemptResult.CONNECTION_ERROR, AttemptResult.THROTTLED}
)


@dataclass
class _Flow:
    window: int
    in_flight: dict[str, float] = field(default_factory=dict)  # delivery id → lease expiry
    sent: deque[float] = field(default_factory=deque)  # lease times within the rate window
    rate_limit: int = 0


class SubscriptionThrottle:
    def __init__(self, max_in_flight: int = 64, initial_window: int = 16) -> None:
        self.max_in_flight = max_in_flight
        self.initial_window = min(initial_window, max_in_flight)
        self._flows: dict[str, _Flow] = {}
        self._owner: dict[str, str] = {}  # delivery id → subscription id

    def _flow(self, subscription_id: str) -> _Flow:
        flow = self._flows.get(subscription_id)
        if flow is None:
            flow = self._flows[subscription_id] = _Flow(self.initial_window)
        return flow

    def leased(self, leases: list[Lease], now: float) -> None:
        for lease in leases:
            sub = lease.subscription
            flow = self._flow(sub.id)
            flow.rate_limit = sub.rate_limit
            flow.in_flight[lease.delivery.id] = lease.lease_expire_time
            self._owner[lease.delivery.id] = sub.id
            if sub.rate_limit:
                flow.sent.append(now)

    def finished(self, delivery_id: str, result: AttemptResult) -> bool:
        """Forget a delivery in flight and adapt its subscription's window; True when that
        gives a subscription that was full room again, so held-back work may be leased."""
        subscription_id = self._owner.pop(delivery_id, None)
        flow = self._flows.get(subscription_id) if subscription_id else None
        if flow is None or flow.in_flight.pop(delivery_id, None) is None:
            return False
        was_full = len(flow.in_flight) + 1 >= flow.window
        if result in STRUGGLING:
            flow.window = max(flow.window // 2, 1)
        else:
            flow.window = min(flow.window + 1, self.max_in_flight)
        return was_full and len(flow.in_flight) < flow.window

    def blocked(self, now: float) -> list[str]:
        """Subscriptions that must not be leased to right now."""
        blocked = []
        for sub_id, flow in list(self._flows.items()):
            expired = [d for d, until in flow.in_flight.items() if until <= now]
            for delivery_id in expired:
                del flow.in_flight[delivery_id]
                self._owner.pop(delivery_id, None)
            while flow.sent and flow.sent[0] <= now - RATE_WINDOW:
                flow.sent.popleft()
            if len(flow.in_flight) >= flow.window or (
                flow.rate_limit and len(flow.sent) >= flow.rate_limit
            ):
                blocked.append(sub_id)
            elif not flow.in_flight and not flow.sent and flow.window >= self.initial_window:
                del self._flows[sub_id]  # idle and healthy: nothing worth remembering
        return blocked

    def room(self, subscription_id: str) -> int:
        """How many more deliveries this subscription may have leased now."""
        flow = self._flows.get(subscription_id)
        if flow is None:
            return self.initial_window
        left = flow.window - len(flow.in_flight)
        if flow.rate_limit:
            left = min(left, flow.rate_limit - len(flow.sent))
        return max(left, 0)

    def next_opening(self) -> float | None:
        """When a rate-limited subscription next gets room (None if none is waiting)."""
        openings = [
            flow.sent[0] + RATE_WINDOW
            for flow in self._flows.values()
            if flow.rate_limit and len(flow.sent) >= flow.rate_limit
        ]
        return min(openings, default=None)
