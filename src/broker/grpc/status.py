"""The one place broker errors become gRPC statuses (a server interceptor).

Besides the code and message, an INVALID_ARGUMENT carries `google.rpc.BadRequest` (the
field and the problem) and, where the broker has one, a `google.rpc.ErrorInfo` reason, in
the standard `grpc-status-details-bin` trailer: callers act on those, never on the prose.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

from broker.errors import (
    ERROR_DOMAIN,
    BrokerError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
)
from broker.storage.contract import StoreError

log = logging.getLogger(__name__)

DETAILS_KEY = "grpc-status-details-bin"
_CODES: tuple[tuple[type[Exception], grpc.StatusCode], ...] = (
    (InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
    (PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (FailedPrecondition, grpc.StatusCode.FAILED_PRECONDITION),
    (ResourceExhausted, grpc.StatusCode.RESOURCE_EXHAUSTED),
    (Unavailable, grpc.StatusCode.UNAVAILABLE),
    (StoreError, grpc.StatusCode.UNAVAILABLE),
)
_STORE_UNAVAILABLE = "storage is unavailable; retry later"
# Messages echo what the caller sent (an id, a path); beyond this they are cut, as a
# status message travels in a trailer that clients refuse past 8-16 KiB (the caller would
# see RESOURCE_EXHAUSTED "Stream removed" instead of the status).
MAX_MESSAGE_CHARS = 512


def _brief(text: str) -> str:
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


def status_for(exc: Exception) -> tuple[grpc.StatusCode, str]:
    """The status code and message a caller sees; a store failure's own text stays in
    the log (it may name internals), and anything unexpected is INTERNAL."""
    for kind, code in _CODES:
        if isinstance(exc, kind):
            return code, _STORE_UNAVAILABLE if isinstance(exc, StoreError) else _brief(str(exc))
    return grpc.StatusCode.INTERNAL, "internal error"


def details_for(
    exc: Exception, code: grpc.StatusCode, message: str
) -> tuple[tuple[str, bytes], ...]:
    """The `grpc-status-details-bin` trailer for errors that carry structure."""
    if not isinstance(exc, InvalidArgument):
        return ()
    status = status_pb2.Status(code=code_pb2.INVALID_ARGUMENT, message=message)
    violation = error_details_pb2.BadRequest.FieldViolation(
        field=_brief(exc.field), description=_brief(exc.problem)
    )
    _pack(status, error_details_pb2.BadRequest(field_violations=[violation]))
    if exc.reason:
        _pack(status, error_details_pb2.ErrorInfo(reason=exc.reason, domain=ERROR_DOMAIN))
    return ((DETAILS_KEY, status.SerializeToString()),)


def _pack(status: status_pb2.Status, detail: Any) -> None:
    packed = any_pb2.Any()
    packed.Pack(detail)
    status.details.append(packed)


_CONTRACT = "/hookwire.v1."
UNDECODABLE = "the request could not be decoded"


class _Undecodable:
    """What a request that failed to decode arrives as, so that its handler answers
    INVALID_ARGUMENT: gRPC itself would answer UNKNOWN naming the parser's Python class."""


_UNDECODABLE = _Undecodable()


def _tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if deserializer is None:
        return None
    parse = deserializer

    def deserialize(data: bytes) -> Any:
        try:
            return parse(data)
        except Exception:
            return _UNDECODABLE

    return deserialize


class ErrorTranslation(grpc.aio.ServerInterceptor):
    """Wraps the unary handlers of `hookwire.v1` so a raised error answers with its status
    and message, and a request that cannot be decoded answers INVALID_ARGUMENT.

    Other services (health checking, reflection) are left as they are: they report their
    own statuses by aborting. Wrapped handlers are built once per method and reused: this
    runs on every call.
    """

    def __init__(self) -> None:
        self._wrapped: dict[str, grpc.RpcMethodHandler[Any, Any] | None] = {}

    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        method = handler_call_details.method
        if method in self._wrapped:
            return self._wrapped[method]
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None or not method.startswith(_CONTRACT):
            return handler
        self._wrapped[method] = wrapped = self._wrap(handler, method)
        return wrapped

    @staticmethod
    def _wrap(
        handler: grpc.RpcMethodHandler[Any, Any], method: str
    ) -> grpc.RpcMethodHandler[Any, Any]:
        inner = handler.unary_unary
        assert inner is not None

        async def translated(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            if request is _UNDECODABLE:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, UNDECODABLE)
            try:
                return await inner(request, context)  # type: ignore[arg-type]
            except grpc.aio.AbortError:
                raise  # the handler answered with a status of its own
            except (BrokerError, StoreError) as exc:
                code, message = status_for(exc)
                if isinstance(exc, StoreError):
                    log.error("%s: %s", method, exc)
                await context.abort(code, message, details_for(exc, code, message))
            except Exception:
                log.exception("unexpected error in %s", method)
                await context.abort(grpc.StatusCode.INTERNAL, "internal error")

        return grpc.unary_unary_rpc_method_handler(
            translated,
            request_deserializer=_tolerant(handler.request_deserializer),
            response_serializer=handler.response_serializer,
        )
