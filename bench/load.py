"""Load generators: closed-loop (fixed concurrency), windowed (sustained, bounded backlog)
and paced (fixed rate).

Throughput counts only completions inside a measurement window that starts after a warm-up,
so connection set-up and first-call costs do not dilute the figure.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from clients import RPC_TIMEOUT, Api, SinkClient, event

from hookwire.v1 import events_pb2 as epb


@dataclass
class Rate:
    count: int  # units completed inside the window
    seconds: float
    total: int = 0  # units completed overall (warm-up and tail included)

    @property
    def per_s(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0


async def closed_loop(
    call: Callable[[int], Awaitable[int]], concurrency: int, warmup: float, duration: float
) -> Rate:
    """`concurrency` workers run `call(worker)` back to back; each call returns the units it
    completed. Counts units completed inside [start + warmup, start + warmup + duration]."""
    start = time.perf_counter()
    window_start, end = start + warmup, start + warmup + duration
    counted = total = 0

    async def worker(index: int) -> None:
        nonlocal counted, total
        while time.perf_counter() < end:
            units = await call(index)
            total += units
            if window_start <= time.perf_counter() <= end:
                counted += units

    workers = asyncio.gather(*(worker(i) for i in range(concurrency)))
    await asyncio.wait_for(workers, warmup + duration + RPC_TIMEOUT + 5)
    return Rate(counted, duration, total)


@dataclass
class Published:
    """What a publisher got acknowledged: ids in publish order, and a sample to re-read."""

    keep_ids: bool = True  # False for a million events: count and sample only
    ids: list[str] = field(default_factory=list)
    count: int = 0
    samples: list[tuple[str, bytes]] = field(default_factory=list)
    seq: itertools.count[int] = field(default_factory=itertools.count)

    def batch(self, event_type: str, size: int) -> list[epb.PublishEventRequest]:
        stamp = int(time.time() * 1e6)
        return [event(event_type, next(self.seq), stamp) for _ in range(size)]

    def add(self, requests: list[epb.PublishEventRequest], ids: list[str]) -> None:
        if len(self.samples) < 10 or self.count % 5000 == 0:
            self.samples.append((ids[0], bytes(requests[0].data)))
        self.count += len(ids)
        if self.keep_ids:
            self.ids.extend(ids)


async def publish_all(
    api: Api, event_type: str, count: int, batch: int, concurrency: int, out: Published
) -> float:
    """Publish `count` events with PublishEvents; returns the seconds it took."""
    batches = iter(range(0, count, batch))
    start = time.perf_counter()

    async def worker() -> None:
        for first in batches:
            requests = out.batch(event_type, min(batch, count - first))
            out.add(requests, await api.publish_batch(requests))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - start


async def sustained(
    api: Api,
    sink: SinkClient,
    event_type: str,
    out: Published,
    warmup: float,
    duration: float,
    window: int = 2000,
    batch: int = 100,
) -> Rate:
    """Publish batches for warmup + duration seconds, keeping at most `window` events
    published but not yet received, so the gateway always has work while the queue stays
    short. Returns the sink's receipt rate over the window (receipts at the sink, not acks).
    """
    received = 0
    stop = asyncio.Event()

    async def watch() -> None:
        nonlocal received
        while not stop.is_set():
            received = (await sink.stats())["count"]
            await asyncio.sleep(0.02)

    async def publisher() -> None:
        while not stop.is_set():
            if out.count - received >= window:
                await asyncio.sleep(0.005)
                continue
            requests = out.batch(event_type, batch)
            out.add(requests, await api.publish_batch(requests))

    tasks = [asyncio.create_task(watch()), *(asyncio.create_task(publisher()) for _ in range(4))]
    try:
        await asyncio.sleep(warmup)
        first, start = (await sink.stats())["count"], time.perf_counter()
        await asyncio.sleep(duration)
        last, seconds = (await sink.stats())["count"], time.perf_counter() - start
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), RPC_TIMEOUT + 5)
    return Rate(last - first, seconds, out.count)


async def paced(
    api: Api, event_type: str, rate: float, seconds: float, out: Published
) -> tuple[float, list[float]]:
    """Publish one event every 1/rate s with PublishEvent, each stamped with its own call
    start (payload `t`), not waiting for earlier calls. Returns the rate achieved and each
    call's acknowledgement time in ms (by sequence number)."""
    total = int(rate * seconds)
    ids: list[str] = [""] * total
    acks: list[float] = [0.0] * total
    in_flight: set[asyncio.Task[None]] = set()

    async def one(seq: int) -> None:
        request = event(event_type, seq)
        tick = time.perf_counter()
        reply = await api.events.PublishEvent(request, timeout=RPC_TIMEOUT)
        acks[seq] = (time.perf_counter() - tick) * 1000
        ids[seq] = reply.event.id
        if seq < 10:
            out.samples.append((reply.event.id, bytes(request.data)))

    start = time.perf_counter()
    for seq in range(total):
        delay = start + seq / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(one(seq))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    achieved = total / (time.perf_counter() - start)
    if in_flight:
        await asyncio.wait_for(asyncio.gather(*in_flight), RPC_TIMEOUT + 5)
    out.ids.extend(ids)
    out.count += len(ids)
    return achieved, acks
