"""Time and randomness as seams, so tests decide what "now" and "random" are."""

from __future__ import annotations

import contextlib
import os
import random
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

# Test/simulation seam: when set, a broker process takes "now" from this file (FileClock).
CLOCK_FILE_ENV = "HOOKWIRE_CLOCK_FILE"


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


class FileClock:
    """A ManualClock another process can move: now() is the epoch seconds written in a file.

    Only for tests and simulations of whole processes (`HOOKWIRE_CLOCK_FILE`): time stands
    still between writes, and whoever drives it writes the file atomically (a temporary file
    renamed over it). The file is read on every call; a read that fails (or finds no number)
    keeps the last value. A file that cannot be read at start-up is an error.
    """

    def __init__(self, path: str | Path) -> None:
        self._path = Path(path)
        try:
            self._last = float(self._path.read_text())
        except (OSError, ValueError) as exc:
            raise ValueError(f"{CLOCK_FILE_ENV}: cannot read a time from {path}: {exc}") from None

    def now(self) -> float:
        with contextlib.suppress(OSError, ValueError):
            self._last = float(self._path.read_text())
        return self._last


def clock_from_env(env: Mapping[str, str] | None = None) -> Clock:
    """The real clock, or a FileClock when `HOOKWIRE_CLOCK_FILE` names one (tests only)."""
    path = (os.environ if env is None else env).get(CLOCK_FILE_ENV, "")
    return FileClock(path) if path else SystemClock()


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
