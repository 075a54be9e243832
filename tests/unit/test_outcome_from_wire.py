import pytest

from broker.domain import AttemptResult
from broker.grpc.convert import outcome_from_pb
from hookwire.v1 import deliveries_pb2 as dpb


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        (dpb.ATTEMPT_RESULT_SUCCEEDED, AttemptResult.SUCCEEDED),
        (dpb.ATTEMPT_RESULT_TIMED_OUT, AttemptResult.TIMED_OUT),
        (dpb.ATTEMPT_RESULT_BLOCKED, AttemptResult.BLOCKED),
        (dpb.ATTEMPT_RESULT_UNSPECIFIED, AttemptResult.FAILED),
        (99, AttemptResult.FAILED),  # from a newer gateway: a failure, never a crash
    ],
)
def test_reported_results_map_to_the_domain(wire: int, expected: AttemptResult) -> None:
    msg = dpb.DeliveryOutcome(delivery_id="dlv_1", lease_id="lse_1", result=wire)  # type: ignore[arg-type]
    msg.latency.FromMilliseconds(250)
    msg.attempt_time.FromSeconds(1_700_000_000)
    outcome = outcome_from_pb(msg)
    assert outcome.result is expected
    assert (outcome.latency, outcome.attempt_time, outcome.retry_after) == (0.25, 1.7e9, None)


def test_every_wire_result_has_a_domain_result() -> None:
    for name, value in dpb.AttemptResult.items():
        if value:
            assert outcome_from_pb(dpb.DeliveryOutcome(result=value)).result.name == name[15:]
