"""Per-subscription admission for leasing: a cap on deliveries in flight, and the
endpoint's announced rate (requests per minute).

A hanging endpoint can then hold at most `max_in_flight` of the gateways' slots, so it
never starves the others; a subscription over its cap or rate is simply left out of the
next lease query until it has room again.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from broker.domain import Lease

RATE_WINDOW = 60.0


@dataclass
class _Flow:
    in_flight: dict[str, float] = field(default_factory=dict)  # delivery id → lease expiry
    sent: deque[float] = field(default_factory=deque)  # lease times within the rate window
    rate_limit: int = 0


class SubscriptionThrottle:
    def __init__(self, max_in_flight: int = 64) -> None:
        self.max_in_flight = max_in_flight
        self._flows: dict[str, _Flow] = {}
        self._owner: dict[str, str] = {}  # delivery id → subscription id

    def leased(self, leases: list[Lease], now: float) -> None:
        for lease in leases:
            sub = lease.subscription
            flow = self._flows.setdefault(sub.id, _Flow())
            flow.rate_limit = sub.rate_limit
            flow.in_flight[lease.delivery.id] = lease.lease_expire_time
            self._owner[lease.delivery.id] = sub.id
            if sub.rate_limit:
                flow.sent.append(now)

    def finished(self, delivery_id: str) -> bool:
        """Forget a delivery in flight; True when that reopens its subscription (it was at
        its cap), so work held back may now be leased."""
        subscription_id = self._owner.pop(delivery_id, None)
        flow = self._flows.get(subscription_id) if subscription_id else None
        if flow is None or flow.in_flight.pop(delivery_id, None) is None:
            return False
        return len(flow.in_flight) == self.max_in_flight - 1

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
            if len(flow.in_flight) >= self.max_in_flight or (
                flow.rate_limit and len(flow.sent) >= flow.rate_limit
            ):
                blocked.append(sub_id)
            elif not flow.in_flight and not flow.sent:
                del self._flows[sub_id]
        return blocked

    def room(self, subscription_id: str) -> int:
        """How many more deliveries this subscription may have leased now."""
        flow = self._flows.get(subscription_id)
        if flow is None:
            return self.max_in_flight
        left = self.max_in_flight - len(flow.in_flight)
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
