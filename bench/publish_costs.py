"""Where a batched publish spends its time: CPU per event of each stage of
`PublishEvents` (100 events of 1 KiB JSON), in one process, without gRPC's transport.

Stages: parsing the request and validating each event; storing (ids, plan, SQLite insert,
the fsync'd group commit and the hop to the writer thread); building the response. Their
sum bounds what one broker process can acknowledge per second before gRPC's own cost.

Run: .venv/bin/python bench/publish_costs.py [--rounds 300]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

import payload

from broker.clock import SystemClock, SystemRandom
from broker.grpc import convert
from broker.grpc.events import validated
from broker.ids import IdFactory
from broker.publishing import Publisher
from broker.storage.sqlite import SqliteStore
from hookwire.v1 import events_pb2 as pb

BATCH = 100


def _request() -> bytes:
    events = [
        pb.PublishEventRequest(type="bench.event", data=payload.make(i, 1)) for i in range(BATCH)
    ]
    return pb.PublishEventsRequest(events=events).SerializeToString()


async def measure(rounds: int) -> dict[str, float]:
    raw = _request()
    with tempfile.TemporaryDirectory() as tmp:
        store = await SqliteStore.open(str(Path(tmp) / "costs.db"))
        clock = SystemClock()
        publisher = Publisher(store, clock, IdFactory(clock, SystemRandom()), lambda: None)
        publisher.start()
        try:
            tick = time.perf_counter()
            for _ in range(rounds):
                request = pb.PublishEventsRequest.FromString(raw)
                events = [validated(e, publisher.limits) for e in request.events]
            validate = time.perf_counter() - tick
            tick = time.perf_counter()
            for _ in range(rounds):
                results = await publisher.publish(events)
            store_time = time.perf_counter() - tick
            tick = time.perf_counter()
            for _ in range(rounds):
                convert.publish_responses_pb(results, request.events).SerializeToString()
            respond = time.perf_counter() - tick
        finally:
            await publisher.stop()
            await store.close()
    per_event = 1e6 / (rounds * BATCH)
    return {
        "parse_and_validate_us": validate * per_event,
        "store_us": store_time * per_event,
        "respond_us": respond * per_event,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    costs = asyncio.run(measure(parser.parse_args().rounds))
    total = sum(costs.values())
    for name, value in costs.items():
        print(f"{name:24} {value:6.1f} µs/event")
    print(f"{'total':24} {total:6.1f} µs/event  → at most {1e6 / total:,.0f} events/s per core")


if __name__ == "__main__":
    main()
