"""Endpoint verification as processes: `CreateSubscription` on a real `hookwire serve`, the
handshake made by its gateway process to a real loopback receiver, in each mode, accepted
and refused. A refusal is FAILED_PRECONDITION saying what the endpoint answered, and nothing
is stored."""

from __future__ import annotations

import time
from collections.abc import Callable

import grpc
import pytest

from hookwire.v1 import subscriptions_pb2 as spb
from tests.support.processes import Hookwire
from tests.support.receivers import Handshake, HandshakeAnswer, HandshakeScript, ThreadedReceiver

Serve = Callable[..., Hookwire]
FAILED_PRECONDITION = grpc.StatusCode.FAILED_PRECONDITION
PATH = "/verify-me"
ECHO_TOKEN = spb.VERIFICATION_MODE_ECHO_TOKEN
WEBSUB = spb.VERIFICATION_MODE_WEBSUB_CHALLENGE
CLOUDEVENTS = spb.VERIFICATION_MODE_CLOUDEVENTS_OPTIONS
HANDSHAKE_LIMIT = "1"  # HOOKWIRE_VERIFICATION_TIMEOUT (seconds) for the time-limit test


def refused(hw: Hookwire, receiver: ThreadedReceiver, mode: int) -> str:
    """Create a subscription that must be refused; the refusal's details."""
    with pytest.raises(grpc.RpcError) as raised:
        hw.create_subscription(receiver.url(PATH), ["invoice.*"], verification=mode)
    error = raised.value
    assert error.code() == FAILED_PRECONDITION, (error.code(), error.details())
    return str(error.details())


def assert_nothing_stored(hw: Hookwire, receiver: ThreadedReceiver) -> None:
    # The readiness probe's subscription was deleted: nothing else was ever stored.
    assert [s.url for s in hw.list_subscriptions()] == []
    assert receiver.url(PATH) not in {s.url for s in hw.list_subscriptions()}


def handshakes_to(receiver: ThreadedReceiver) -> list[Handshake]:
    return [h for h in receiver.verifications if h.path == PATH]


def active(hw: Hookwire, created: spb.Subscription) -> spb.Subscription:
    assert created.state == spb.SUBSCRIPTION_STATE_ACTIVE
    got = hw.get_subscription(created.id)
    assert got.state == spb.SUBSCRIPTION_STATE_ACTIVE
    assert [s.id for s in hw.list_subscriptions()] == [created.id]
    return got


# -- ECHO_TOKEN ----------------------------------------------------------------------------------


def test_echo_token_echoed_is_accepted(hookwire: Serve, receiver: ThreadedReceiver) -> None:
    hw = hookwire()

    created = hw.create_subscription(receiver.url(PATH), ["invoice.*"], verification=ECHO_TOKEN)

    got = active(hw, created)
    assert got.verification == ECHO_TOKEN
    [handshake] = handshakes_to(receiver)
    assert handshake.method == "POST"
    assert handshake.query["validationToken"]
    assert handshake.headers["content-type"].startswith("text/plain")
    assert handshake.status == 200


def _wrong_token(request: Handshake) -> HandshakeAnswer:
    return HandshakeAnswer(body=b"definitely-not-the-token")


def _server_error(request: Handshake) -> HandshakeAnswer:
    return HandshakeAnswer(status=500, body=b"oops")


def _never(request: Handshake) -> HandshakeAnswer:
    return HandshakeAnswer(hold=True)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (_wrong_token, "'definitely-not-the-token', not the token"),
        (_server_error, "answered HTTP 500"),
        (_never, f"no answer within {HANDSHAKE_LIMIT}s"),
    ],
    ids=["wrong-token", "http-500", "time-limit"],
)
def test_echo_token_refused(
    hookwire: Serve, receiver: ThreadedReceiver, answer: HandshakeScript, expected: str
) -> None:
    hw = hookwire(env={"HOOKWIRE_VERIFICATION_TIMEOUT": HANDSHAKE_LIMIT})
    receiver.answer_handshakes(PATH, answer)

    started = time.monotonic()
    details = refused(hw, receiver, ECHO_TOKEN)
    elapsed = time.monotonic() - started

    assert expected in details, details
    assert "echo_token" in details.lower(), details
    assert elapsed < 4.5, elapsed  # the configured limit, not the 5 s default
    [handshake] = handshakes_to(receiver)
    assert handshake.method == "POST" and handshake.query["validationToken"]
    assert_nothing_stored(hw, receiver)


# -- WEBSUB_CHALLENGE -----------------------------------------------------------------------------


def test_websub_challenge_echoed_is_accepted(hookwire: Serve, receiver: ThreadedReceiver) -> None:
    hw = hookwire()

    created = hw.create_subscription(receiver.url(PATH), ["invoice.*"], verification=WEBSUB)

    assert active(hw, created).verification == WEBSUB
    [handshake] = handshakes_to(receiver)
    assert handshake.method == "GET"
    assert handshake.query["hub.mode"] == "subscribe"
    assert handshake.query["hub.challenge"]
    assert "invoice.*" in handshake.query["hub.topic"]
    assert int(handshake.query["hub.lease_seconds"]) > 0
    assert handshake.status == 200


def test_websub_challenge_wrong_body_is_refused(
    hookwire: Serve, receiver: ThreadedReceiver
) -> None:
    hw = hookwire()
    receiver.answer_handshakes(PATH, lambda request: HandshakeAnswer(body=b"nope"))

    details = refused(hw, receiver, WEBSUB)

    assert "'nope', not the challenge" in details, details
    assert [h.method for h in handshakes_to(receiver)] == ["GET"]
    assert_nothing_stored(hw, receiver)


# -- CLOUDEVENTS_OPTIONS ---------------------------------------------------------------------------


def test_cloudevents_allowed_origin_is_accepted_and_sets_the_rate(
    hookwire: Serve, receiver: ThreadedReceiver
) -> None:
    hw = hookwire()

    def allow(request: Handshake) -> HandshakeAnswer:
        if request.method != "OPTIONS" or "webhook-request-origin" not in request.headers:
            return HandshakeAnswer(status=400)
        return HandshakeAnswer(
            headers={"WebHook-Allowed-Origin": "*", "WebHook-Allowed-Rate": "120"}
        )

    receiver.answer_handshakes(PATH, allow)

    created = hw.create_subscription(receiver.url(PATH), ["invoice.*"], verification=CLOUDEVENTS)

    got = active(hw, created)
    assert created.rate_limit == 120  # the endpoint's WebHook-Allowed-Rate
    assert got.rate_limit == 120
    [handshake] = handshakes_to(receiver)
    assert handshake.method == "OPTIONS"
    assert handshake.headers["webhook-request-origin"] == "hookwire"
    assert handshake.status == 200


def test_cloudevents_without_allowed_origin_is_refused(
    hookwire: Serve, receiver: ThreadedReceiver
) -> None:
    hw = hookwire()
    receiver.answer_handshakes(PATH, lambda request: HandshakeAnswer(status=200))

    details = refused(hw, receiver, CLOUDEVENTS)

    assert "no WebHook-Allowed-Origin" in details, details
    assert [h.method for h in handshakes_to(receiver)] == ["OPTIONS"]
    assert_nothing_stored(hw, receiver)
