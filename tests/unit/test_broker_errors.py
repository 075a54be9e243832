"""Broker errors as HTTP answers: the structured details read, and the one status table."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2

from broker import errors
from gateway.broker_errors import (
    ERROR_DOMAIN,
    EVENT_TOO_LARGE,
    ErrorDetails,
    FieldViolation,
    Rpc,
    error_details,
    http_status,
)

Code = grpc.StatusCode
TOO_LARGE_MESSAGE = "data: is 300000 bytes; the limit is 262144"
DETAILS_KEY = "grpc-status-details-bin"


def packed(message: Message) -> any_pb2.Any:
    wrapped = any_pb2.Any()
    wrapped.Pack(message)
    return wrapped


def status_trailer(code: grpc.StatusCode, message: str, *details: Message) -> bytes:
    """A serialized `google.rpc.Status`, as the broker puts it in the trailer."""
    status = status_pb2.Status(
        code=code.value[0], message=message, details=[packed(d) for d in details]
    )
    return bytes(status.SerializeToString())


def rpc_error(
    code: grpc.StatusCode, message: str, *details: Message, trailer: bytes | None = None
) -> grpc.aio.AioRpcError:
    """An error as a grpc.aio call raises it, its details in `grpc-status-details-bin`."""
    if trailer is None and details:
        trailer = status_trailer(code, message, *details)
    trailing = grpc.aio.Metadata()
    if trailer is not None:
        trailing.add(DETAILS_KEY, trailer)
    return grpc.aio.AioRpcError(code, grpc.aio.Metadata(), trailing, message)


def bad_request(field: str, description: str) -> error_details_pb2.BadRequest:
    return error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=field, description=description)
        ]
    )


def error_info(reason: str, domain: str = ERROR_DOMAIN) -> error_details_pb2.ErrorInfo:
    return error_details_pb2.ErrorInfo(reason=reason, domain=domain)


def too_large() -> grpc.aio.AioRpcError:
    return rpc_error(
        Code.INVALID_ARGUMENT,
        TOO_LARGE_MESSAGE,
        bad_request("data", "is 300000 bytes; the limit is 262144"),
        error_info(EVENT_TOO_LARGE),
    )


def test_field_violations_and_reason_are_read_from_the_trailer() -> None:
    assert error_details(too_large()) == ErrorDetails(
        reason=EVENT_TOO_LARGE,
        violations=(FieldViolation("data", "is 300000 bytes; the limit is 262144"),),
    )


def test_a_reason_of_another_domain_is_not_ours() -> None:
    error = rpc_error(Code.INVALID_ARGUMENT, "x", error_info(EVENT_TOO_LARGE, "example.com"))
    assert error_details(error).reason == ""


@pytest.mark.parametrize(
    "error",
    [
        rpc_error(Code.INVALID_ARGUMENT, TOO_LARGE_MESSAGE),
        rpc_error(Code.INVALID_ARGUMENT, TOO_LARGE_MESSAGE, trailer=b"\xff not a status"),
        rpc_error(
            Code.UNAVAILABLE,
            "",
            trailer=status_trailer(
                Code.INVALID_ARGUMENT, TOO_LARGE_MESSAGE, error_info(EVENT_TOO_LARGE)
            ),
        ),
    ],
    ids=["no trailer", "unreadable trailer", "another error's status"],
)
def test_without_readable_details_nothing_is_made_up(error: grpc.aio.AioRpcError) -> None:
    assert error_details(error) == ErrorDetails()


def test_a_too_large_event_is_413_by_its_reason() -> None:
    assert http_status(too_large(), Rpc.PUBLISH_EVENT) == 413


def test_the_message_alone_never_makes_413() -> None:
    prose_only = rpc_error(Code.INVALID_ARGUMENT, TOO_LARGE_MESSAGE)
    assert http_status(prose_only, Rpc.PUBLISH_EVENT) == 400
    another_field = rpc_error(
        Code.INVALID_ARGUMENT, "type: bad", bad_request("type", "bad"), error_info("OTHER")
    )
    assert http_status(another_field, Rpc.PUBLISH_EVENT) == 400


@pytest.mark.parametrize(
    ("rpc", "code", "status"),
    [
        (Rpc.RESOLVE_SOURCE, Code.NOT_FOUND, 404),
        (Rpc.RESOLVE_SOURCE, Code.INVALID_ARGUMENT, 404),
        (Rpc.RESOLVE_SOURCE, Code.UNAUTHENTICATED, 503),
        (Rpc.RESOLVE_SOURCE, Code.UNAVAILABLE, 503),
        (Rpc.RESOLVE_SOURCE, Code.DEADLINE_EXCEEDED, 503),
        (Rpc.PUBLISH_EVENT, Code.INVALID_ARGUMENT, 400),
        (Rpc.PUBLISH_EVENT, Code.NOT_FOUND, 503),
        (Rpc.PUBLISH_EVENT, Code.UNAUTHENTICATED, 503),
        (Rpc.PUBLISH_EVENT, Code.INTERNAL, 503),
        (Rpc.GET_EVENT, Code.NOT_FOUND, 404),
        (Rpc.GET_EVENT, Code.INVALID_ARGUMENT, 404),
        (Rpc.GET_EVENT, Code.UNAUTHENTICATED, 401),
        (Rpc.GET_EVENT, Code.UNAVAILABLE, 503),
    ],
)
def test_only_what_the_client_caused_is_passed_on(
    rpc: Rpc, code: grpc.StatusCode, status: int
) -> None:
    assert http_status(rpc_error(code, "refused"), rpc) == status


def test_the_reason_and_domain_are_the_brokers() -> None:
    assert (ERROR_DOMAIN, EVENT_TOO_LARGE) == (errors.ERROR_DOMAIN, errors.EVENT_TOO_LARGE)
