"""Time and randomness as seams, so tests decide what "now" and "random" are."""

from __future__ import annotations

import os
import random
import time
from typing import Protocol


class Clock(Protocol):
    """Wall-clock time in epoch seconds."""

    def now(self) -> float: ...


class SystemClock:
    """The real clock."""

    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that moves only when told to; for tests and simulations."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds

    def set(self, instant: float) -> None:
        self._now = instant


class RandomSource(Protocol):
    """Randomness for ids, secrets and jitter."""

    def token_bytes(self, n: int) -> bytes: ...

    def uniform(self, low: float, high: float) -> float: ...


class SystemRandom:
    """Cryptographic randomness for ids and secrets; a fast PRNG for jitter only."""

    def __init__(self) -> None:
        self._jitter = random.Random()

    def token_bytes(self, n: int) -> bytes:
        return os.urandom(n)

    def uniform(self, low: float, high: float) -> float:
        return self._jitter.uniform(low, high)


class SeededRandom:
    """Deterministic randomness for tests (never for secrets in production)."""

    def __init__(self, seed: int = 0) -> None:
        self._rng = random.Random(seed)

    def token_bytes(self, n: int) -> bytes:
        return self._rng.randbytes(n)

    def uniform(self, low: float, high: float) -> float:
        return self._rng.uniform(low, high)
