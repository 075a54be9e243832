"""The broker's error vocabulary; the gRPC edge maps each to one status code."""

from __future__ import annotations


class BrokerError(Exception):
    """Base of every error a caller can act on."""


class InvalidArgument(BrokerError):
    """A request field is wrong; `field` names it (e.g. `subscription.url`)."""

    def __init__(self, field: str, problem: str, reason: str = "") -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem
        self.reason = reason  # a machine-readable cause, for callers that act on it

    def within(self, prefix: str) -> InvalidArgument:
        """The same problem, its field named from an enclosing message (`events[3].`)."""
        return InvalidArgument(prefix + self.field, self.problem, self.reason)


# InvalidArgument.reason values (google.rpc.ErrorInfo reasons in ERROR_DOMAIN).
ERROR_DOMAIN = "hookwire.dev"
EVENT_TOO_LARGE = "EVENT_TOO_LARGE"


class NotFound(BrokerError):
    """The named resource does not exist."""

    def __init__(self, kind: str, resource_id: str) -> None:
        super().__init__(f"{kind} {resource_id!r} not found")


class Unauthenticated(BrokerError):
    """The caller's credential does not grant this (no detail of why is given)."""


class PermissionDenied(BrokerError):
    """The caller is known but its role or scope does not grant this; says what is missing."""


class FailedPrecondition(BrokerError):
    """The request is well-formed but the system is not in a state to do it."""


class Unavailable(BrokerError):
    """A part needed for the request is not there right now; retrying later may succeed."""


class ResourceExhausted(BrokerError):
    """The broker is holding as much of this kind of work as it may; retrying after a
    while may succeed."""
