"""The connected gateways: their credits, their outboxes, and handshakes in flight.

A gateway takes work only up to the credits it granted, so a slow gateway is never
flooded and a fast one is never starved.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from broker.domain import Lease, VerificationResult, VerificationTask
from broker.errors import Unavailable

Outgoing = list[Lease] | VerificationTask | None
# How long past the endpoint's own time limit a gateway may take to report a handshake.
VERIFICATION_GRACE = 5.0


@dataclass(eq=False)
class GatewaySession:
    """One connected gateway stream."""

    gateway_id: str
    token_id: str = ""  # the API token that opened the stream
    credits: int = 0
    outbox: asyncio.Queue[Outgoing] = field(default_factory=asyncio.Queue)
    verifying: set[str] = field(default_factory=set)


class GatewayHub:
    def __init__(self, on_credit: Callable[[], None]) -> None:
        self._on_credit = on_credit
        self._sessions: list[GatewaySession] = []
        self._round_robin = itertools.count()
        self._verifications: dict[str, asyncio.Future[VerificationResult]] = {}

    @property
    def sessions(self) -> list[GatewaySession]:
        return list(self._sessions)

    def attach(self, gateway_id: str, token_id: str = "") -> GatewaySession:
        session = GatewaySession(gateway_id, token_id)
        self._sessions.append(session)
        return session

    def detach(self, session: GatewaySession) -> None:
        """Forget the gateway; handshakes it had not reported fail now, not at their timeout.

        Deliveries it had leased fall due again when their lease expires.
        """
        if session not in self._sessions:
            return
        self._sessions.remove(session)
        for task_id in session.verifying:
            self._settle(task_id, VerificationResult(False, "the gateway disconnected"))
        session.outbox.put_nowait(None)

    def end_sessions_of(self, token_id: str) -> None:
        """End the streams a token opened (it was revoked); their leases fall due again."""
        for session in [s for s in self._sessions if s.token_id == token_id]:
            self.detach(session)

    def grant(self, session: GatewaySession, credits: int) -> None:
        if credits > 0:
            session.credits += credits
            self._on_credit()

    def close(self) -> None:
        for session in list(self._sessions):
            self.detach(session)

    async def verify(self, task: VerificationTask) -> VerificationResult:
        """Hand the handshake to a connected gateway and wait for its report."""
        if not self._sessions:
            raise Unavailable("no gateway is connected to perform endpoint verification")
        session = self._sessions[next(self._round_robin) % len(self._sessions)]
        done: asyncio.Future[VerificationResult] = asyncio.get_running_loop().create_future()
        self._verifications[task.id] = done
        session.verifying.add(task.id)
        session.outbox.put_nowait(task)
        try:
            return await asyncio.wait_for(done, task.timeout + VERIFICATION_GRACE)
        except TimeoutError:
            return VerificationResult(False, "no answer from the gateway in time")
        finally:
            self._verifications.pop(task.id, None)
            session.verifying.discard(task.id)

    def verified(self, task_id: str, result: VerificationResult) -> None:
        self._settle(task_id, result)

    def _settle(self, task_id: str, result: VerificationResult) -> None:
        done = self._verifications.get(task_id)
        if done is not None and not done.done():
            done.set_result(result)
