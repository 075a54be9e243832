"""Reading an HTTP attempt: status → result, Retry-After → seconds.

The broker decides what happens next; the gateway only says what happened.
"""

from __future__ import annotations

import email.utils
from dataclasses import dataclass

from hookwire.v1 import deliveries_pb2 as dpb

THROTTLING_STATUSES = frozenset({429, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class AttemptReport:
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


def report_for_response(
    status: int, retry_after_header: str | None, body_excerpt: str, now: float
) -> AttemptReport:
    result = result_for_status(status)
    error = "" if result == dpb.ATTEMPT_RESULT_SUCCEEDED else f"HTTP {status}"
    if 300 <= status < 400:
        error = f"HTTP {status} (redirects are not followed)"
    retry_after = (
        parse_retry_after(retry_after_header, now)
        if result == dpb.ATTEMPT_RESULT_THROTTLED
        else None
    )
    return AttemptReport(result, status, error, body_excerpt, retry_after)
