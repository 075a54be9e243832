"""What happens after an attempt: the retry schedule, jitter, Retry-After and auto-disable.

Pure decisions from (outcome, delivery, subscription, now); the store applies them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from broker.clock import RandomSource
from broker.domain import AttemptResult, Decision, Outcome, Verdict

# Delays after attempt 1, 2, ... (the first attempt is immediate); after the last, it is dead.
DEFAULT_SCHEDULE: tuple[float, ...] = (5, 300, 1800, 7200, 18000, 36000, 36000)
THROTTLING_RESULTS = frozenset({AttemptResult.THROTTLED})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """The server-wide policy; a subscription may bring its own schedule."""

    schedule: tuple[float, ...] = DEFAULT_SCHEDULE
    jitter: float = 0.2
    max_retry_after: float = 3600.0
    disable_after: float = 5 * 86400.0

    def delay(
        self, attempt_number: int, schedule: Sequence[float], rng: RandomSource
    ) -> float | None:
        """Delay before the attempt after `attempt_number`, or None when none is left."""
        steps = schedule or self.schedule
        if attempt_number > len(steps):
            return None
        base = steps[attempt_number - 1]
        if base <= 0 or self.jitter <= 0:
            return max(base, 0.0)
        return base * rng.uniform(1 - self.jitter, 1 + self.jitter)

    def decide(
        self,
        outcome: Outcome,
        attempt_number: int,
        schedule: Sequence[float],
        failing_since: float | None,
        now: float,
        rng: RandomSource,
    ) -> Decision:
        """The verdict for a delivery whose attempt `attempt_number` ended with `outcome`."""
        if outcome.result is AttemptResult.SUCCEEDED:
            return Decision(Verdict.DELIVERED)
        if outcome.result is AttemptResult.GONE:
            return Decision(Verdict.GONE, disable_reason="endpoint answered 410 Gone")
        disable_reason = ""
        since = failing_since if failing_since is not None else now
        if now - since >= self.disable_after:
            disable_reason = f"failing continuously for {int((now - since) // 3600)} hours"
        delay = self.delay(attempt_number, schedule, rng)
        if delay is None:
            return Decision(Verdict.EXHAUSTED, disable_reason=disable_reason)
        if outcome.result in THROTTLING_RESULTS and outcome.retry_after is not None:
            delay = min(max(outcome.retry_after, 0.0), self.max_retry_after)
        return Decision(Verdict.RETRY, now + delay, disable_reason)
