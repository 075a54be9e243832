"""Who may call what: every `hookwire.v1` RPC names the roles that may call it.

A server interceptor reads the `authorization` metadata (`Bearer <token>`) of every call to
a `hookwire.v1` service, before the handler runs, so a refused call changes nothing: no
token or an unknown, revoked or expired one is UNAUTHENTICATED; a known one whose role
lacks the right is PERMISSION_DENIED naming it. Health checking and reflection stay open.
Refusals are logged and counted with the token's id, never the token.

The caller is then `CALLER.get()` for the handler, for the checks that depend on the
request (a publisher's event types, a gateway's fetch token) and for tying a stream to its
token so that revoking the token ends the stream.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, TypeAlias

import grpc
from cryptography import x509
from cryptography.x509.oid import NameOID
from prometheus_client import Counter

from broker.domain import Role
from broker.errors import BrokerError, PermissionDenied, Unauthenticated
from broker.grpc.status import details_for, status_for
from broker.tokens import Principal, TokenManager

log = logging.getLogger(__name__)

CALLER: ContextVar[Principal] = ContextVar("caller")
REFUSED = Counter("hookwire_refused_calls", "Calls refused before they ran", ["reason"])

_READ = frozenset({Role.ADMIN, Role.MANAGER, Role.READER})
_MANAGE = frozenset({Role.ADMIN, Role.MANAGER})
_PUBLISH = frozenset({Role.ADMIN, Role.PUBLISHER, Role.GATEWAY})
_GATEWAY = frozenset({Role.GATEWAY})
_ADMIN = frozenset({Role.ADMIN})
_ROLES = frozenset(role.value for role in Role)

# Every RPC of every hookwire.v1 service and the roles that may call it. The gateway
# role alone leases deliveries and resolves source secrets: no other role, admin
# included, ever needs a secret. A gateway also publishes inbound webhooks and relays
# THIN fetch-backs (GetEvent, which then also needs the notification's fetch token).
RIGHTS: dict[str, frozenset[Role]] = {
    f"/hookwire.v1.{service}/{method}": roles
    for service, methods in {
        "EventService": {
            "PublishEvent": _PUBLISH,
            "PublishEvents": _PUBLISH,
            "GetEvent": _READ | _GATEWAY,
            "ListEvents": _READ,
        },
        "SubscriptionService": {
            "CreateSubscription": _MANAGE,
            "GetSubscription": _READ,
            "ListSubscriptions": _READ,
            "UpdateSubscription": _MANAGE,
            "DeleteSubscription": _MANAGE,
            "RenewSubscription": _MANAGE,
            "PauseSubscription": _MANAGE,
            "ResumeSubscription": _MANAGE,
            "RotateSubscriptionSecret": _MANAGE,
        },
        "DeliveryService": {
            "ListDeliveries": _READ,
            "ListDeliveryAttempts": _READ,
            "RetryDelivery": _MANAGE,
            "ReplayEvents": _MANAGE,
            "LeaseDeliveries": _GATEWAY,
        },
        "SourceService": {
            "CreateSource": _MANAGE,
            "GetSource": _READ,
            "ListSources": _READ,
            "DeleteSource": _MANAGE,
            "RotateSourceSecret": _MANAGE,
            "ResolveSource": _GATEWAY,
        },
        "TokenService": {
            "CreateToken": _ADMIN,
            "ListTokens": _ADMIN,
            "RevokeToken": _ADMIN,
        },
    }.items()
    for method, roles in methods.items()
}
_CONTRACT = "/hookwire.v1."

if TYPE_CHECKING:  # generic in the type stubs only
    Handler: TypeAlias = grpc.RpcMethodHandler[Any, Any]
Context = grpc.aio.ServicerContext[Any, Any]


def bearer_of(metadata: Any) -> str:
    for key, value in metadata or ():
        if key == "authorization" and isinstance(value, str):
            scheme, _, token = value.partition(" ")
            return token.strip() if scheme.lower() == "bearer" else ""
    return ""


class ClientCertificates:
    """The caller a verified client certificate names (mutual TLS), cached per certificate.

    gRPC has checked the chain against HOOKWIRE_TLS_CLIENT_CA before a call arrives (the
    broker then requires a certificate of every client, see `Broker._listen`); this
    maps the certificate to a caller: its subject's single Organizational Unit names the
    role (`OU=publisher`), its Common Name is the caller's id in logs (`cert:<CN>`). A
    certificate with no OU, several, or one that is not a role gets no caller, as an
    unknown token does. Parsing is done once per certificate, so a connection's calls cost
    a dictionary lookup; the bearer-token path never comes here.
    """

    MAX_CACHED = 4096

    def __init__(self) -> None:
        self._known: dict[bytes, Principal | None] = {}

    def principal(self, pem: list[bytes] | None) -> Principal | None:
        if not pem:
            return None
        key = pem[0]
        if key not in self._known:
            if len(self._known) >= self.MAX_CACHED:
                self._known.clear()
            self._known[key] = self._parse(key)
        return self._known[key]

    @staticmethod
    def _parse(pem: bytes) -> Principal | None:
        try:
            subject = x509.load_pem_x509_certificate(pem).subject
        except ValueError:
            return None
        units = subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
        names = subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if len(units) != 1 or len(names) != 1:
            return None
        unit, name = units[0].value, names[0].value
        if not isinstance(unit, str) or not isinstance(name, str) or unit.upper() not in _ROLES:
            return None
        return Principal(token_id=f"cert:{name}", role=Role(unit.upper()))


class AccessControl(grpc.aio.ServerInterceptor):
    """Admits each call to the contract by its caller's role (see RIGHTS).

    Checked handlers are built once per method and reused: this runs on every call."""

    def __init__(self, tokens: TokenManager) -> None:
        self._tokens = tokens
        self._certificates = ClientCertificates()
        self._checked: dict[str, Handler | None] = {}

    async def admit(
        self, method: str, metadata: Any, auth_context: Callable[[], Any] | None = None
    ) -> Principal:
        """The caller: its bearer token's, or (with none) its client certificate's, found in
        `auth_context()` (the call's `context.auth_context`, asked for only then: the token
        path stays as cheap as it was)."""
        bearer = bearer_of(metadata)
        if bearer:
            caller = await self._tokens.authenticate(bearer)
        else:
            auth = auth_context() if auth_context is not None else {}
            caller = self._certificates.principal(auth.get("x509_pem_cert"))
        if caller is None:
            self._refuse("unauthenticated", method, "anonymous" if not bearer else "unknown")
            raise Unauthenticated(
                "a valid API token or client certificate is required"
                " (authorization: Bearer hwk_..., or a certificate naming a role)"
                if not bearer
                else "the API token is unknown, revoked or expired"
            )
        allowed = RIGHTS.get(method, frozenset())
        if caller.role not in allowed:
            self._refuse("permission_denied", method, caller.token_id)
            roles = ", ".join(sorted(r.value.lower() for r in allowed)) or "no role"
            raise PermissionDenied(
                f"the {caller.role.value.lower()} role may not call {method.rsplit('/', 1)[-1]}"
                f" (it needs: {roles})"
            )
        return caller

    @staticmethod
    def _refuse(reason: str, method: str, who: str) -> None:
        REFUSED.labels(reason).inc()
        log.warning("refused %s to %s: %s", method, who, reason)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        method = handler_call_details.method
        if method in self._checked:
            return self._checked[method]
        handler = await continuation(handler_call_details)
        if handler is None or not method.startswith(_CONTRACT):
            return handler  # health checking and reflection stay open
        self._checked[method] = checked = self._check(handler, method)
        return checked

    def _check(self, handler: Handler, method: str) -> Handler:
        admit = self.admit

        async def abort(context: Context, exc: BrokerError) -> None:
            code, message = status_for(exc)
            await context.abort(code, message, details_for(exc, code, message))

        if handler.unary_unary is not None:
            unary = handler.unary_unary

            async def checked_unary(request: Any, context: Context) -> Any:
                try:
                    CALLER.set(
                        await admit(method, context.invocation_metadata(), context.auth_context)
                    )
                except BrokerError as exc:
                    await abort(context, exc)
                return await unary(request, context)  # type: ignore[arg-type]

            return grpc.unary_unary_rpc_method_handler(
                checked_unary,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.stream_stream is not None:
            streaming = handler.stream_stream

            async def checked_stream(requests: Any, context: Context) -> AsyncIterator[Any]:
                try:
                    CALLER.set(
                        await admit(method, context.invocation_metadata(), context.auth_context)
                    )
                except BrokerError as exc:
                    await abort(context, exc)
                async for response in streaming(requests, context):  # type: ignore[attr-defined,arg-type]
                    yield response

            return grpc.stream_stream_rpc_method_handler(
                checked_stream,
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        raise TypeError(f"{method}: no access check for this kind of RPC")


def caller() -> Principal:
    """The caller of the RPC being handled (set by AccessControl)."""
    return CALLER.get()
