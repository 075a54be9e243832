"""Subscription lifetimes and event retention, swept periodically.

Before a subscription lapses its subscriber gets `hookwire.subscription.expiring` (signed
like any webhook, whatever its patterns); when it lapses it becomes EXPIRED and
`hookwire.subscription.expired` goes out on the bus. Events older than the retention
period are purged with their deliveries and attempts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from broker import operational_events
from broker.clock import Clock
from broker.ids import IdFactory
from broker.storage.contract import Store, StoreError

log = logging.getLogger(__name__)
BATCH = 500


@dataclass(frozen=True, slots=True)
class LifecycleSettings:
    warn_before: float = 86400.0
    retention: float = 30 * 86400.0
    interval: float = 30.0


class LifecycleSweeper:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        ids: IdFactory,
        work_may_be_due: Callable[[], None],
        settings: LifecycleSettings | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._ids = ids
        self._work_may_be_due = work_may_be_due
        self.settings = settings or LifecycleSettings()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="lifecycle")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.sweep()
            except StoreError as exc:
                log.error("lifecycle sweep failed: %s", exc)
            await asyncio.sleep(self.settings.interval)

    async def sweep(self) -> None:
        """One pass: warn, expire, purge. Safe to repeat; each step is idempotent."""
        now = self._clock.now()
        before = now + self.settings.warn_before
        while await self._store.warn_expiring(
            before, BATCH, now, self._ids.new, operational_events.subscription_expiring
        ):
            self._work_may_be_due()
        while await self._store.expire_subscriptions(
            now, BATCH, self._ids.new, operational_events.subscription_expired
        ):
            self._work_may_be_due()
        purged = 0
        while count := await self._store.purge_events(now - self.settings.retention, BATCH):
            purged += count
        if purged:
            log.info("purged %d events past retention", purged)
