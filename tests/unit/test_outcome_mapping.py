import pytest

from gateway.outcome import parse_retry_after, report_for_response, result_for_status
from hookwire.v1 import deliveries_pb2 as dpb

NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("status", "result"),
    [
        (200, dpb.ATTEMPT_RESULT_SUCCEEDED),
        (204, dpb.ATTEMPT_RESULT_SUCCEEDED),
        (299, dpb.ATTEMPT_RESULT_SUCCEEDED),
        (301, dpb.ATTEMPT_RESULT_FAILED),
        (308, dpb.ATTEMPT_RESULT_FAILED),
        (400, dpb.ATTEMPT_RESULT_FAILED),
        (410, dpb.ATTEMPT_RESULT_GONE),
        (429, dpb.ATTEMPT_RESULT_THROTTLED),
        (500, dpb.ATTEMPT_RESULT_FAILED),
        (502, dpb.ATTEMPT_RESULT_THROTTLED),
        (503, dpb.ATTEMPT_RESULT_THROTTLED),
        (504, dpb.ATTEMPT_RESULT_THROTTLED),
    ],
)
def test_status_mapping(status: int, result: int) -> None:
    assert result_for_status(status) == result


def test_redirect_error_says_it_was_not_followed() -> None:
    report = report_for_response(302, None, "", NOW)
    assert report.result == dpb.ATTEMPT_RESULT_FAILED
    assert "not followed" in report.error


def test_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("120", NOW) == 120
    assert parse_retry_after("Tue, 14 Nov 2023 22:30:00 GMT", NOW) == pytest.approx(1_000)
    assert parse_retry_after("Tue, 14 Nov 2023 21:00:00 GMT", NOW) == 0
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_retry_after_kept_only_when_throttled() -> None:
    assert report_for_response(429, "30", "", NOW).retry_after == 30
    assert report_for_response(500, "30", "", NOW).retry_after is None
