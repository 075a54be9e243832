"""Reading an HTTP attempt into its outcome: status → result, Retry-After → seconds.

The broker decides what happens next; the gateway only says what happened.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass

from hookwire.v1 import deliveries_pb2 as dpb

THROTTLING_STATUSES = frozenset({429, 502, 503, 504})


def http_error(status: int) -> str:
    """An HTTP status as error text (`HTTP 503`), in outcomes and verification details
    alike; the broker names a failed attempt without an error the same way."""
    return f"HTTP {status}"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one HTTP attempt came to: the contract's `DeliveryOutcome`, the broker's
    `Outcome`. An attempt's result (`AttemptResult`) is reported as an outcome; the
    broker turns the outcome into a verdict (delivered, retry, exhausted, gone) and the
    verdict into a delivery state. `retry_after` is the wait, in seconds, a throttling
    endpoint asked for."""

    result: dpb.AttemptResult.ValueType
    status_code: int = 0
    error: str = ""
    response_body: str = ""
    retry_after: float | None = None


def result_for_status(status: int) -> dpb.AttemptResult.ValueType:
    if 200 <= status < 300:
        return dpb.ATTEMPT_RESULT_SUCCEEDED
    if status == 410:
        return dpb.ATTEMPT_RESULT_GONE
    if status in THROTTLING_STATUSES:
        return dpb.ATTEMPT_RESULT_THROTTLED
    return dpb.ATTEMPT_RESULT_FAILED


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(when.timestamp() - now, 0.0)


def outcome_for_response(
    status: int, retry_after_header: str | None, body_excerpt: str, now: float
) -> Outcome:
    result = result_for_status(status)
    error = "" if result == dpb.ATTEMPT_RESULT_SUCCEEDED else http_error(status)
    if 300 <= status < 400:
        error = f"{http_error(status)} (redirects are not followed)"
    retry_after = (
        parse_retry_after(retry_after_header, now)
        if result == dpb.ATTEMPT_RESULT_THROTTLED
        else None
    )
    return Outcome(result, status, error, body_excerpt, retry_after)
