"""The 1 KiB JSON event payload, shared by the publishers and the sink.

The payload is a pure function of (publish start time, sequence number), so the sink can
rebuild the exact bytes it should have received and check the spliced body byte for byte
without the harness shipping every payload across processes.
"""

from __future__ import annotations

import re

SIZE = 1024
# The signing secret every benchmark subscription uses, so the sink can verify samples.
SECRET = "whsec_" + "YmVuY2htYXJrLXNlY3JldC1rZXktMzItYnl0ZXMhIQ=="
_HEAD = re.compile(rb'\{"t":(\d{1,20}),"seq":(\d{1,20}),"pad":"')


def make(seq: int, t_us: int) -> bytes:
    """`{"t": <µs since epoch>, "seq": n, "pad": "<filler>"}`, exactly SIZE bytes."""
    head = b'{"t":%d,"seq":%d,"pad":"' % (t_us, seq)
    room = SIZE - len(head) - 2
    filler = (b"%08x" % ((seq * 2654435761) & 0xFFFFFFFF)) * (room // 8 + 1)
    return head + filler[:room] + b'"}'


def parse(data: bytes) -> tuple[int, int] | None:
    """(t_us, seq) when `data` is exactly what `make` produced for them, else None."""
    match = _HEAD.match(data)
    if match is None:
        return None
    t_us, seq = int(match[1]), int(match[2])
    return (t_us, seq) if make(seq, t_us) == data else None
