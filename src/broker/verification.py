"""Endpoint verification: the broker decides when, a gateway performs the handshake."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from broker.domain import VerificationMode


@dataclass(frozen=True, slots=True)
class VerificationTask:
    id: str
    url: str
    mode: VerificationMode
    token: str
    topic: str
    lease_seconds: float
    timeout: float
    origin: str


@dataclass(frozen=True, slots=True)
class VerificationResult:
    verified: bool
    detail: str
    allowed_rate: int = 0


class Verifier(Protocol):
    """Performs a handshake somewhere that may make HTTP calls (a gateway)."""

    async def verify(self, task: VerificationTask) -> VerificationResult: ...
