import pytest

from gateway.outcome import (
    http_error,
    outcome_for_response,
    parse_retry_after,
    result_for_status,
)
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
    outcome = outcome_for_response(302, None, "", NOW)
    assert outcome.result == dpb.ATTEMPT_RESULT_FAILED
    assert "not followed" in outcome.error


def test_retry_after_seconds_and_http_date() -> None:
    assert parse_retry_after("120", NOW) == 120
    assert parse_retry_after("Tue, 14 Nov 2023 22:30:00 GMT", NOW) == pytest.approx(1_000)
    assert parse_retry_after("Tue, 14 Nov 2023 21:00:00 GMT", NOW) == 0
    assert parse_retry_after("soon", NOW) is None
    assert parse_retry_after(None, NOW) is None


def test_retry_after_kept_only_when_throttled() -> None:
    assert outcome_for_response(429, "30", "", NOW).retry_after == 30
    assert outcome_for_response(500, "30", "", NOW).retry_after is None


def test_a_failed_status_is_named_by_its_code() -> None:
    assert http_error(503) == "HTTP 503"
    assert outcome_for_response(500, None, "", NOW).error == "HTTP 500"
    assert outcome_for_response(204, None, "", NOW).error == ""


@pytest.mark.parametrize("status", [301, 404, 500, 503])
def test_the_gateways_error_text_is_the_one_the_broker_records(status: int) -> None:
    from broker.domain import AttemptResult, Outcome

    reported = Outcome("dlv_1", "lse_1", AttemptResult.FAILED, status, 0.0, 0.0, "", "", None)
    assert reported.error_text == http_error(status)
