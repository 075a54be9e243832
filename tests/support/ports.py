"""Loopback ports a test can name before anything binds them."""

from __future__ import annotations

import socket

LOOPBACK = "127.0.0.1"


def free_port() -> int:
    """A port on 127.0.0.1 that was free a moment ago, so a test knows an address in
    advance (a gateway's `--http-address`, a receiver that must come back on its port)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return int(probe.getsockname()[1])
