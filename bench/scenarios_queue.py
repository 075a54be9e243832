"""Queue-shaped scenarios: fan-out, a hanging endpoint, a backlog drain, memory when pending.

Same contract as scenarios.py: one run on fresh processes and database, figures back,
CheckFailed when the pipeline did something wrong.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from pathlib import Path

from clients import RPC_TIMEOUT, Api, SinkClient, check, check_exactly_once, event, poll
from cpu import CpuMeter
from load import Published, publish_all, sustained
from processes import (
    ProcessStack,
    free_port,
    start_broker,
    start_gateway,
    start_serve,
    start_sink,
)
from settings import Run, Settings

from hookwire.v1 import deliveries_pb2 as dpb
from hookwire.v1 import subscriptions_pb2 as spb


def count_pending(work: Path) -> int:
    """Pending deliveries, read straight from the SQLite file (read-only): paging a million
    rows through ListDeliveries would itself disturb what is being measured."""
    uri = f"file:{work / 'hookwire.db'}?mode=ro"
    with sqlite3.connect(uri, uri=True, timeout=30) as db:
        row = db.execute("SELECT count(*) FROM deliveries WHERE state = 'PENDING'").fetchone()
    return int(row[0])


def database_mb(work: Path) -> float:
    return sum(p.stat().st_size for p in work.glob("hookwire.db*")) / 2**20


async def fanout(s: Settings, work: Path) -> Run:
    """One event to `fanout` subscriptions on distinct paths: publish start → last receipt."""
    with ProcessStack(work) as stack:
        sink = await start_sink(stack)
        hookwire = await start_serve(stack)
        async with Api(hookwire.address) as api, SinkClient(sink.port) as receiver:
            gate = asyncio.Semaphore(16)

            async def subscribe(index: int) -> str:
                async with gate:
                    return await api.subscribe(sink.url(f"/fan/{index:04d}"), ["bench.fanout"])

            started = time.perf_counter()
            await asyncio.gather(*(subscribe(i) for i in range(s.fanout)))
            created = time.perf_counter() - started
            t0 = time.time()
            reply = await api.events.PublishEvent(
                event("bench.fanout", 0, int(t0 * 1e6)), timeout=RPC_TIMEOUT
            )
            await receiver.wait_count(s.fanout, 60)
            await asyncio.sleep(0.2)  # anything extra would show up now
            records = await receiver.records()
            await receiver.check_clean()
    paths = {r[0] for r in records}
    check(len(records) == len(paths) == s.fanout, f"{len(records)} webhooks to {len(paths)} paths")
    check({r[1] for r in records} == {reply.event.id}, "a webhook carried another event id")
    elapsed = max(r[2] for r in records) - t0
    first = min(r[2] for r in records) - t0
    notes = [f"first webhook after {first * 1000:.0f} ms; {s.fanout} subscriptions created "
             f"in {created:.1f}s"]  # fmt: skip
    return Run({"fanout_1000_s": elapsed}, notes)


async def slow_endpoint(s: Settings, work: Path) -> Run:
    """Healthy throughput with a second subscription (same events) whose endpoint never
    answers, over healthy throughput before that subscription existed."""
    with ProcessStack(work) as stack:
        sink = await start_sink(stack)
        hookwire = await start_serve(stack, HOOKWIRE_REQUEST_TIMEOUT=f"{s.slow_timeout:g}")
        async with Api(hookwire.address) as api, SinkClient(sink.port) as receiver:
            await api.subscribe(sink.url("/healthy"), ["bench.slow"])
            out = Published()
            alone = await sustained(api, receiver, "bench.slow", out, s.warmup, s.duration)
            await receiver.wait_count(len(out.ids), 60 + len(out.ids) / 200)
            slow_sid = await api.subscribe(sink.url("/slow/hang"), ["bench.slow"])
            shared = await sustained(api, receiver, "bench.slow", out, s.warmup, s.duration)
            request = dpb.ListDeliveriesRequest(page_size=50, subscription_id=slow_sid)

            async def slow_page() -> list[dpb.Delivery]:
                reply = await api.deliveries.ListDeliveries(request, timeout=RPC_TIMEOUT)
                return list(reply.deliveries)

            attempted = await poll(
                slow_page, lambda ds: any(d.attempt_count > 0 for d in ds),
                s.slow_timeout + 30, "no attempt recorded for the hanging endpoint",
            )  # fmt: skip
            errors = {d.last_error for d in attempted if d.attempt_count > 0}
            check(errors == {"timed out"}, f"hanging endpoint recorded as {sorted(errors)}")
            # Waiting out the hanging deliveries would take minutes: cancel them, then every
            # healthy event must still arrive exactly once.
            await api.subscriptions.DeleteSubscription(
                spb.DeleteSubscriptionRequest(id=slow_sid), timeout=RPC_TIMEOUT
            )
            await receiver.wait_count(len(out.ids), 60 + s.slow_timeout * 3 + len(out.ids) / 200)
            check_exactly_once(await receiver.records(), set(out.ids), "healthy subscription")
            stats = await receiver.check_clean()
            check(stats["slow"] > 0, "the hanging endpoint was never called")
            stack.stop(sink.proc)  # release held connections so the gateway drains fast
    notes = [f"healthy alone {alone.per_s:.0f}/s, with hanging endpoint {shared.per_s:.0f}/s; "
             f"{stats['slow']} requests hung; attempts recorded as {sorted(errors)}"]  # fmt: skip
    ratio = shared.per_s / alone.per_s if alone.per_s else 0.0
    return Run({"slow_endpoint_ratio": ratio}, notes)


async def backlog(s: Settings, work: Path) -> Run:
    """`backlog` deliveries queued on a broker with no gateway, then a gateway with the sink
    up: deliveries received / (gateway launch → last receipt)."""
    with ProcessStack(work) as stack:
        port = free_port()
        broker = await start_broker(stack)
        async with Api(broker.address) as api:
            sid = await api.subscribe(f"http://127.0.0.1:{port}/backlog", ["bench.backlog"])
            out = Published()
            publish_s = await publish_all(api, "bench.backlog", s.backlog, 1000, 4, out)
            check(len(set(out.ids)) == s.backlog, "published ids not unique")
            queued = count_pending(work)
            check(queued == s.backlog, f"{queued} deliveries pending, {s.backlog} expected")
            sink = await start_sink(stack, port)
            async with SinkClient(sink.port) as receiver:
                t0 = time.time()
                meter = CpuMeter([broker.proc.popen.pid, sink.proc.popen.pid, os.getpid()])
                gateway = await start_gateway(stack, broker.address)
                meter.roots.append(gateway.popen.pid)
                await receiver.wait_count(s.backlog, 60 + s.backlog / 250)
                usage = meter.summary()
                await asyncio.sleep(0.2)
                records = await receiver.records()
                check_exactly_once(records, set(out.ids), "backlog")
                await receiver.check_clean()
            await api.wait_recorded(sid, 60)
            await api.check_attempts(sid)
    last = max(r[2] for r in records) - t0
    first = min(r[2] for r in records) - t0
    notes = [f"published {s.backlog} in {publish_s:.1f}s; first webhook {first:.2f}s after the "
             f"gateway was launched, last after {last:.1f}s", usage]  # fmt: skip
    return Run({"backlog_drain_per_s": s.backlog / last}, notes)


async def pending_rss(s: Settings, work: Path) -> Run:
    """Broker VmRSS with `pending` deliveries queued (one subscription, no gateway)."""
    with ProcessStack(work) as stack:
        broker = await start_broker(stack)
        async with Api(broker.address) as api:
            await api.subscribe(f"http://127.0.0.1:{free_port()}/rss", ["bench.rss"])
            idle_mb, _ = broker.proc.rss_mb()
            out = Published(keep_ids=False)
            publish_s = await publish_all(api, "bench.rss", s.pending, 1000, 2, out)
            await asyncio.sleep(1.0)
            rss_mb, peak_mb = broker.proc.rss_mb()
            queued = count_pending(work)
            check(out.count == s.pending, f"{out.count} acknowledged, {s.pending} published")
            check(queued == s.pending, f"{queued} deliveries pending, {s.pending} expected")
            await api.check_stored(out.samples[:10])
    db_mb = database_mb(work)
    notes = [f"{s.pending} events in {publish_s:.0f}s ({s.pending / publish_s:.0f}/s); RSS idle "
             f"{idle_mb:.0f} MiB, peak {peak_mb:.0f} MiB; database {db_mb:.0f} MiB"]  # fmt: skip
    return Run({"broker_rss_mb_1m_pending": rss_mb}, notes)
