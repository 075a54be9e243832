"""What checking a caller costs: CPU per call of `AccessControl.admit` (the work every
hookwire.v1 call pays before its handler), in one process, without gRPC's transport.

Stages: a stored token already authenticated (the cache hit every call after the first
takes), a provisioned token, and a stored token's first call (hash + store read). The
first figure, against the ~170 µs a unary publish costs the broker, is the price of
authentication on the hot path.

Run: .venv/bin/python bench/access_costs.py [--calls 200000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from broker.clock import SystemClock, SystemRandom
from broker.domain import Role
from broker.grpc.access import AccessControl
from broker.ids import IdFactory
from broker.storage.sqlite import SqliteStore
from broker.tokens import AccessSettings, TokenManager

METHOD = "/hookwire.v1.EventService/PublishEvent"
PROVISIONED = "bench-admin-token-" + "a" * 32


async def measure(calls: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder:
        store = await SqliteStore.open(str(Path(folder) / "access.db"))
        clock, rng = SystemClock(), SystemRandom()
        tokens = TokenManager(
            store, clock, rng, IdFactory(clock, rng), AccessSettings(admin=PROVISIONED)
        )
        access = AccessControl(tokens)
        _, stored = await tokens.create(Role.PUBLISHER, ["bench.*"], "bench", 0)
        figures: dict[str, float] = {}
        for name, bearer in (("stored, cached", stored), ("provisioned", PROVISIONED)):
            metadata = (("user-agent", "grpc-python"), ("authorization", f"Bearer {bearer}"))
            await access.admit(METHOD, metadata)
            start = time.process_time()
            for _ in range(calls):
                await access.admit(METHOD, metadata)
            figures[name] = (time.process_time() - start) / calls * 1e6
        cold = max(calls // 100, 100)
        fresh = [(await tokens.create(Role.PUBLISHER, [], "", 0))[1] for _ in range(cold)]
        start = time.process_time()
        for bearer in fresh:
            await access.admit(METHOD, (("authorization", f"Bearer {bearer}"),))
        figures["stored, first call"] = (time.process_time() - start) / cold * 1e6
        await store.close()
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=200_000)
    args = parser.parse_args()
    for name, micros in asyncio.run(measure(args.calls)).items():
        print(f"{name:22s} {micros:7.2f} µs CPU per call")


if __name__ == "__main__":
    main()
