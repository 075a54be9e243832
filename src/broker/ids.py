"""Sortable resource ids: `<prefix>_` + a ULID (48-bit milliseconds, 80 random bits).

Ids sort by creation time, so "oldest first" pagination is an index range scan on the id.
"""

from __future__ import annotations

import threading

from broker.clock import Clock, RandomSource

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Two characters per 10 bits: an id is 13 table lookups instead of 26 shifts and appends.
_PAIRS = [_CROCKFORD[i >> 5] + _CROCKFORD[i & 31] for i in range(1024)]
_SHIFTS = range(120, -1, -10)


def encode_ulid(ms: int, rnd: int) -> str:
    """26 Crockford base-32 characters: 48 bits of milliseconds, then 80 random bits."""
    value = ms << 80 | rnd
    return "".join([_PAIRS[(value >> shift) & 1023] for shift in _SHIFTS])


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
        # Ids made in one millisecond differ only in their last pair of characters until
        # the low ten bits wrap: the 24 characters before it are encoded once.
        self._head_value = -1
        self._head = ""

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
        value = ms << 80 | rnd
        if value >> 10 != self._head_value:
            self._head_value = value >> 10
            self._head = encode_ulid(ms, rnd)[:-2]
        return self._head + _PAIRS[value & 1023]
