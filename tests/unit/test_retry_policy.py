import pytest

from broker.clock import SeededRandom
from broker.domain import AttemptResult, Outcome, Verdict
from broker.retry_policy import DEFAULT_SCHEDULE, RetryPolicy

NOW = 1_700_000_000.0


def outcome(result: AttemptResult, status: int = 0, retry_after: float | None = None) -> Outcome:
    return Outcome("dlv_1", "lse_1", result, status, NOW, 0.01, "", "", retry_after)


def test_default_schedule_is_the_documented_one() -> None:
    assert DEFAULT_SCHEDULE == (5, 300, 1800, 7200, 18000, 36000, 36000)


def test_success_is_delivered() -> None:
    decision = RetryPolicy().decide(
        outcome(AttemptResult.SUCCEEDED, 200), 1, [], None, NOW, SeededRandom()
    )
    assert decision.verdict is Verdict.DELIVERED
    assert not decision.disable_reason


def test_gone_disables() -> None:
    decision = RetryPolicy().decide(
        outcome(AttemptResult.GONE, 410), 1, [], None, NOW, SeededRandom()
    )
    assert decision.verdict is Verdict.GONE
    assert "410" in decision.disable_reason


@pytest.mark.parametrize("attempt", range(1, 8))
def test_retry_delays_follow_schedule_within_jitter(attempt: int) -> None:
    rng = SeededRandom(attempt)
    for _ in range(50):
        decision = RetryPolicy().decide(
            outcome(AttemptResult.FAILED, 500), attempt, [], None, NOW, rng
        )
        assert decision.verdict is Verdict.RETRY
        base = DEFAULT_SCHEDULE[attempt - 1]
        assert base * 0.8 <= decision.next_attempt_time - NOW <= base * 1.2


def test_jitter_actually_varies() -> None:
    rng = SeededRandom(1)
    delays = {
        RetryPolicy()
        .decide(outcome(AttemptResult.FAILED, 500), 2, [], None, NOW, rng)
        .next_attempt_time
        for _ in range(20)
    }
    assert len(delays) > 10


def test_after_last_attempt_the_delivery_is_exhausted() -> None:
    decision = RetryPolicy().decide(
        outcome(AttemptResult.TIMED_OUT), 8, [], None, NOW, SeededRandom()
    )
    assert decision.verdict is Verdict.EXHAUSTED


def test_subscription_schedule_overrides_server_schedule() -> None:
    policy = RetryPolicy(jitter=0)
    first = policy.decide(
        outcome(AttemptResult.FAILED, 500), 1, [1.0, 2.0], None, NOW, SeededRandom()
    )
    third = policy.decide(
        outcome(AttemptResult.FAILED, 500), 3, [1.0, 2.0], None, NOW, SeededRandom()
    )
    assert first.next_attempt_time == NOW + 1.0
    assert third.verdict is Verdict.EXHAUSTED


def test_retry_after_is_honoured_and_clamped() -> None:
    policy = RetryPolicy(jitter=0, max_retry_after=600)
    honoured = policy.decide(
        outcome(AttemptResult.THROTTLED, 429, retry_after=42), 1, [], None, NOW, SeededRandom()
    )
    clamped = policy.decide(
        outcome(AttemptResult.THROTTLED, 503, retry_after=86400), 1, [], None, NOW, SeededRandom()
    )
    assert honoured.next_attempt_time == NOW + 42
    assert clamped.next_attempt_time == NOW + 600


def test_retry_after_is_ignored_for_plain_failures() -> None:
    policy = RetryPolicy(jitter=0)
    decision = policy.decide(
        outcome(AttemptResult.FAILED, 500, retry_after=42), 1, [], None, NOW, SeededRandom()
    )
    assert decision.next_attempt_time == NOW + 5


def test_failing_for_five_days_disables() -> None:
    policy = RetryPolicy()
    recent = policy.decide(
        outcome(AttemptResult.FAILED, 500), 2, [], NOW - 4 * 86400, NOW, SeededRandom()
    )
    long_ago = policy.decide(
        outcome(AttemptResult.FAILED, 500), 2, [], NOW - 5 * 86400, NOW, SeededRandom()
    )
    assert not recent.disable_reason
    assert "failing continuously" in long_ago.disable_reason
