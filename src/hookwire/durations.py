"""Durations as people write them: `500ms`, `15s`, `5m`, `24h`, `180d`, or plain seconds.

The one parser for every duration the project reads (environment, server flags, client
flags), so each setting accepts the same units and rejects the same mistakes. It lives
outside the server packages because the client commands need it too and import nothing of
the server.
"""

from __future__ import annotations

import math
import re

_SECONDS_PER_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
# ASCII digits only: float() would also take "-1", "nan", "1e3" and non-ASCII digits.
_DURATION = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ms|s|m|h|d)?")


def parse_duration(text: str) -> float:
    """`90`, `1.5`, `500ms`, `15s`, `5m`, `24h`, `180d` → seconds.

    Raises ValueError naming `text` for anything else: empty text, a negative or
    non-finite number, an unknown unit.
    """
    match = _DURATION.fullmatch(text.strip())
    if match is not None:
        seconds = float(match[1]) * _SECONDS_PER_UNIT[match[2] or "s"]
        if math.isfinite(seconds):  # hundreds of digits overflow to inf
            return seconds
    raise ValueError(f"not a duration: {text!r} (expected e.g. 90, 500ms, 15s, 5m, 24h, 180d)")


def parse_durations(text: str) -> tuple[float, ...]:
    """`5s,5m,30m` → seconds each; blank items are skipped, so `""` is no durations."""
    return tuple(parse_duration(item) for item in text.split(",") if item.strip())
