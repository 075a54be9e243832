"""The delivery loop: lease due deliveries to gateways with credit, apply their outcomes.

It wakes when an event is committed, when a gateway grants credit, when an outcome
schedules a retry, and otherwise when the earliest pending delivery (or expired lease)
falls due, so new work is pushed at once and nothing waits on a slow poll.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from broker import credentials, operational_events
from broker.clock import Clock, RandomSource
from broker.domain import (
    Decision,
    Delivery,
    Lease,
    NewEvent,
    Outcome,
    PayloadMode,
    Subscription,
    Verdict,
)
from broker.gateway_hub import GatewayHub
from broker.ids import IdFactory
from broker.retry_policy import RetryPolicy
from broker.storage.contract import OutcomesApplied, Store, StoreError
from broker.throttle import SubscriptionThrottle

log = logging.getLogger(__name__)


class Wakeup:
    """Why the delivery loop should look again.

    New work may be due (a commit queued deliveries, a retry was scheduled, a held-back
    subscription reopened), or there is new capacity (a gateway granted credit). After a
    round that leased everything due, capacity alone changes nothing, so it costs no query.
    """

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.work_may_be_due = True

    def work(self) -> None:
        self.work_may_be_due = True
        self.event.set()

    def capacity(self) -> None:
        self.event.set()


def _grant_fetch_tokens(leases: list[Lease], now: float) -> None:
    """A THIN notification carries no data: its lease carries the token with which only
    that subscription may fetch the event back."""
    for lease in leases:
        if lease.subscription.payload_mode is PayloadMode.THIN:
            lease.fetch_token = credentials.issue_fetch_token(
                lease.subscription, lease.event.id, now
            )


@dataclass(frozen=True, slots=True)
class DispatchSettings:
    lease_seconds: float = 60.0
    request_timeout: float = 15.0
    batch_size: int = 64
    max_idle: float = 5.0
    max_in_flight_per_subscription: int = 512


class Dispatcher:
    def __init__(
        self,
        store: Store,
        hub: GatewayHub,
        wakeup: Wakeup,
        clock: Clock,
        rng: RandomSource,
        ids: IdFactory,
        policy: RetryPolicy | None = None,
        settings: DispatchSettings | None = None,
    ) -> None:
        self._store = store
        self._hub = hub
        self._wakeup = wakeup
        self._clock = clock
        self._rng = rng
        self._ids = ids
        self.policy = policy or RetryPolicy()
        self.settings = settings or DispatchSettings()
        self._throttle = SubscriptionThrottle(self.settings.max_in_flight_per_subscription)
        self._outcomes: asyncio.Queue[Sequence[Outcome] | None] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._due_at: float | None = None  # the earliest due work the last round left

    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._lease_loop(), name="dispatcher-lease"),
            asyncio.create_task(self._outcome_loop(), name="dispatcher-outcomes"),
        ]

    async def stop(self) -> None:
        """Stop leasing; apply every outcome already reported."""
        self._stopping = True
        self._wakeup.capacity()
        await self._outcomes.put(None)
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def report(self, outcomes: Sequence[Outcome]) -> None:
        """Queue outcomes; they are applied in batches by one task. Their subscriptions have
        room again at once, so leasing is woken now, not after the outcomes are stored."""
        reopened = False
        for outcome in outcomes:
            reopened |= self._throttle.finished(outcome.delivery_id, outcome.result)
        if outcomes:
            self._outcomes.put_nowait(outcomes)
            self._wakeup.work() if reopened else self._wakeup.capacity()

    # -- leasing ------------------------------------------------------------------

    async def _lease_loop(self) -> None:
        while not self._stopping:
            self._wakeup.event.clear()
            if self._wakeup.work_may_be_due:
                # Cleared first: work that arrives during the round asks for another one.
                self._wakeup.work_may_be_due = False
                try:
                    saturated, drained = await self._lease_round()
                except StoreError as exc:
                    log.error("leasing failed: %s", exc)
                    saturated, drained = False, False
                if not drained:
                    self._wakeup.work_may_be_due = True
                if saturated:
                    continue
                await self._find_due_time()
            await self._sleep()

    async def _lease_round(self) -> tuple[bool, bool]:
        """Give due work to every gateway with credit. Returns (saturated: more may already
        be due, drained: a gateway had room to spare, so everything due was leased)."""
        saturated = drained = False
        for session in self._hub.sessions:
            if session.credits <= 0:
                continue
            want = min(session.credits, self.settings.batch_size)
            now = self._clock.now()
            leases = await self._store.lease(
                now,
                want,
                now + self.settings.lease_seconds,
                self._ids.new("lse"),
                self._throttle.blocked(now),
                self._throttle.room,
            )
            if leases:
                _grant_fetch_tokens(leases, now)
                self._throttle.leased(leases, now)
                session.credits -= len(leases)
                session.outbox.put_nowait(leases)
            # Fewer than asked: all due work of the subscriptions with room is leased.
            saturated = saturated or len(leases) == want
            drained = drained or len(leases) < want
        return saturated, drained and not saturated

    async def _find_due_time(self) -> None:
        self._due_at = None
        if any(s.credits > 0 for s in self._hub.sessions):
            now = self._clock.now()
            try:
                self._due_at = await self._store.next_due_time(now, self._throttle.blocked(now))
            except StoreError:
                self._wakeup.work_may_be_due = True

    async def _sleep(self) -> None:
        """Until woken, or until the earliest due work or rate-limit opening."""
        now = self._clock.now()
        timeout = self.settings.max_idle
        for moment in (self._due_at, self._throttle.next_opening()):
            if moment is not None:
                timeout = min(timeout, max(moment - now, 0.0))
        if timeout <= 0:
            self._wakeup.work_may_be_due = True
            return
        alarm = asyncio.get_running_loop().call_later(timeout, self._wakeup.work)
        await self._wakeup.event.wait()
        alarm.cancel()

    # -- outcomes -------------------------------------------------------------------

    def _decide(self, outcome: Outcome, delivery: Delivery, sub: Subscription) -> Decision:
        return self.policy.decide(
            outcome,
            delivery.attempt_count + 1,
            sub.retry_schedule,
            sub.failing_since,
            self._clock.now(),
            self._rng,
        )

    def _notices(self, changed: OutcomesApplied) -> list[NewEvent]:
        return operational_events.for_outcomes(changed.applied, changed.disabled, self._clock.now())

    async def _outcome_loop(self) -> None:
        done = False
        while not done:
            first = await self._outcomes.get()
            if first is None:
                break
            batch = list(first)
            while not self._outcomes.empty():
                more = self._outcomes.get_nowait()
                if more is None:
                    done = True
                    break
                batch.extend(more)
            now = self._clock.now()
            try:
                changed = await self._store.record_outcomes(
                    batch,
                    self._decide,
                    now,
                    self._ids.new,
                    self._notices,
                )
            except StoreError as exc:
                # The leases stay in place and fall due again: nothing is lost.
                log.error("recording %d outcomes failed: %s", len(batch), exc)
                continue
            if changed.disabled or any(
                decision.verdict is not Verdict.DELIVERED for _, _, decision in changed.applied
            ):
                self._wakeup.work()  # a retry or a notice may be due before the last due time
