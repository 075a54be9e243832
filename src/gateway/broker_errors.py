"""The one place a broker error becomes an HTTP status.

The gateway passes a broker refusal on to its HTTP client only when the client caused
it: the id in its URL names nothing, the token it presented is refused, the request it
sent cannot be an event. Any other status (the broker down, slow or failing, or refusing
the gateway itself) is answered 503, so a provider retries and nothing is lost.

Decisions read the structured details the broker attaches to an INVALID_ARGUMENT (a
`google.rpc.Status` in the `grpc-status-details-bin` trailer: `BadRequest` field
violations and, where a caller acts on the cause, an `ErrorInfo` reason), never the
message, which is prose for people.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import grpc
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2
from grpc_status import rpc_status

ERROR_DOMAIN = "hookwire.dev"  # the broker's ErrorInfo domain
EVENT_TOO_LARGE = "EVENT_TOO_LARGE"  # an event's data is over the broker's limit


@dataclass(frozen=True, slots=True)
class FieldViolation:
    field: str
    description: str


@dataclass(frozen=True, slots=True)
class ErrorDetails:
    """What the broker said of an error beyond its code and message: the `ErrorInfo`
    reason in `ERROR_DOMAIN` ("" when it gave none) and the fields at fault."""

    reason: str = ""
    violations: tuple[FieldViolation, ...] = ()


def error_details(error: grpc.aio.AioRpcError) -> ErrorDetails:
    """The details carried by `error`; empty when it has none or they are unreadable
    (a status whose code or message disagrees with the error's is not this error's)."""
    try:
        status = rpc_status.from_call(error)
    except (ValueError, DecodeError):
        return ErrorDetails()
    if status is None:
        return ErrorDetails()
    reason = ""
    violations: list[FieldViolation] = []
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            if info.domain == ERROR_DOMAIN and not reason:
                reason = str(info.reason)
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            violations.extend(
                FieldViolation(str(v.field), str(v.description))
                for v in bad_request.field_violations
            )
    return ErrorDetails(reason, tuple(violations))


class Rpc(enum.Enum):
    """The broker calls the gateway makes for an HTTP client."""

    RESOLVE_SOURCE = "ResolveSource"  # the source an inbound URL names
    PUBLISH_EVENT = "PublishEvent"  # an inbound request, as an event
    GET_EVENT = "GetEvent"  # a THIN notification's data, with the subscriber's token


# The statuses each call passes on to the HTTP client. A malformed id names nothing, so it
# is as unknown as a missing one (404).
_PASSED_ON: dict[Rpc, dict[grpc.StatusCode, int]] = {
    Rpc.RESOLVE_SOURCE: {
        grpc.StatusCode.NOT_FOUND: 404,
        grpc.StatusCode.INVALID_ARGUMENT: 404,
    },
    Rpc.PUBLISH_EVENT: {
        grpc.StatusCode.INVALID_ARGUMENT: 400,
    },
    Rpc.GET_EVENT: {
        grpc.StatusCode.NOT_FOUND: 404,
        grpc.StatusCode.INVALID_ARGUMENT: 404,
        grpc.StatusCode.UNAUTHENTICATED: 401,
    },
}


def http_status(error: grpc.aio.AioRpcError, rpc: Rpc) -> int:
    """The HTTP status answering a client whose request the broker refused in `rpc`:
    404, 400, 401 or 413 when the client caused it, otherwise 503."""
    status = _PASSED_ON[rpc].get(error.code(), 503)
    if status == 400 and error_details(error).reason == EVENT_TOO_LARGE:
        return 413
    return status
