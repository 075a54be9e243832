"""Sortable resource ids: `<prefix>_` + a ULID (48-bit milliseconds, 80 random bits).

Ids sort by creation time, so "oldest first" pagination is an index range scan on the id.
"""

from __future__ import annotations

import threading

from broker.clock import Clock, RandomSource

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _encode(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


class IdFactory:
    """Makes ids from the injected clock and random source; monotonic within a millisecond.

    Thread-safe: the store's writer thread makes ids too.
    """

    def __init__(self, clock: Clock, rng: RandomSource) -> None:
        self._clock = clock
        self._rng = rng
        self._last_ms = -1
        self._last_random = 0
        self._lock = threading.Lock()

    def new(self, prefix: str) -> str:
        with self._lock:
            return f"{prefix}_{self._next()}"

    def _next(self) -> str:
        ms = int(self._clock.now() * 1000)
        if ms <= self._last_ms:
            ms = self._last_ms
            rnd = (self._last_random + 1) & ((1 << 80) - 1)
        else:
            rnd = int.from_bytes(self._rng.token_bytes(10), "big")
        self._last_ms, self._last_random = ms, rnd
        return f"{_encode(ms, 10)}{_encode(rnd, 16)}"
