"""Throughput and latency scenarios: ceilings, publish (unary, batch), end to end, latency.

Each function is one run on fresh processes and a fresh database in `work`, returns its
figures, and raises CheckFailed when what the pipeline did was not right, so a fast wrong
pipeline never scores.
"""

from __future__ import annotations

import os
import statistics
from pathlib import Path

import ceilings
from clients import RPC_TIMEOUT, Api, SinkClient, check, check_exactly_once, event
from cpu import CpuMeter
from load import Published, closed_loop, paced, sustained
from processes import ProcessStack, start_noop, start_serve, start_sink
from settings import Run, Settings


async def grpc_ceiling(s: Settings, work: Path) -> Run:
    with ProcessStack(work) as stack:
        server, address = await start_noop(stack)
        meter = CpuMeter([server.popen.pid, os.getpid()])
        rate = await ceilings.noop_unary(address, s.concurrency, s.warmup, s.duration)
        usage = meter.summary()
    return Run({"grpc_noop_unary_cps": rate.per_s}, [f"no-op gRPC: {usage}"])


async def post_ceiling(s: Settings, work: Path) -> Run:
    """Run on uvloop, like the gateway: the fastest plain Python POST loop."""
    with ProcessStack(work) as stack:
        sink = await start_sink(stack)
        meter = CpuMeter([sink.proc.popen.pid, os.getpid()])
        rate = await ceilings.raw_post(sink.port, s.concurrency, s.warmup, s.duration)
        usage = meter.summary()
    return Run({"raw_post_ceiling_rps": rate.per_s}, [f"raw POST: {usage}"])


async def publish_unary(s: Settings, work: Path) -> Run:
    """PublishEvent at concurrency 64, no subscribers: acknowledged events per second."""
    with ProcessStack(work) as stack:
        hookwire = await start_serve(stack)
        async with Api(hookwire.address) as api:
            out = Published()

            async def one(worker: int) -> int:
                request = event("bench.unary", next(out.seq))
                reply = await api.events.PublishEvent(request, timeout=RPC_TIMEOUT)
                check(reply.event.id.startswith("evt_"), f"bad event id {reply.event.id!r}")
                check(not reply.duplicate, "fresh event reported duplicate")
                out.add([request], [reply.event.id])
                return 1

            meter = CpuMeter([hookwire.proc.popen.pid, os.getpid()])
            rate = await closed_loop(one, s.concurrency, s.warmup, s.duration)
            usage = meter.summary()
            check(len(set(out.ids)) == len(out.ids) == rate.total, "event ids not unique")
            await api.check_stored(out.samples)
    return Run({"publish_unary_eps": rate.per_s}, [usage])


async def publish_batch(s: Settings, work: Path) -> Run:
    """PublishEvents of 100 events, 8 calls in flight, no subscribers."""
    with ProcessStack(work) as stack:
        hookwire = await start_serve(stack)
        async with Api(hookwire.address) as api:
            out = Published()

            async def one(worker: int) -> int:
                requests = out.batch("bench.batch", s.batch)
                out.add(requests, await api.publish_batch(requests))
                return s.batch

            meter = CpuMeter([hookwire.proc.popen.pid, os.getpid()])
            rate = await closed_loop(one, s.batch_concurrency, s.warmup, s.duration)
            usage = meter.summary()
            check(len(set(out.ids)) == len(out.ids) == rate.total, "event ids not unique")
            await api.check_stored(out.samples)
    return Run({"publish_batch_eps": rate.per_s}, [usage])


async def e2e(s: Settings, work: Path) -> Run:
    """One subscription, sustained batched publishing with a bounded backlog: webhooks
    received and answered per second; afterwards every outcome must be recorded."""
    with ProcessStack(work) as stack:
        sink = await start_sink(stack)
        hookwire = await start_serve(stack)
        async with Api(hookwire.address) as api, SinkClient(sink.port) as receiver:
            sid = await api.subscribe(sink.url("/e2e"), ["bench.e2e"])
            out = Published()
            meter = CpuMeter([hookwire.proc.popen.pid, sink.proc.popen.pid, os.getpid()])
            rate = await sustained(api, receiver, "bench.e2e", out, s.warmup, s.duration)
            usage = meter.summary()
            await receiver.wait_count(len(out.ids), 60 + len(out.ids) / 200)
            check_exactly_once(await receiver.records(), set(out.ids), "e2e")
            stats = await receiver.check_clean()
            await api.wait_recorded(sid, 60)
            await api.check_attempts(sid)
            await api.check_stored(out.samples[:5])
    return Run(
        {"e2e_deliveries_per_s": rate.per_s},
        [f"{len(out.ids)} events delivered, {stats['sig_checked']} signatures verified", usage],
    )


async def latency(s: Settings, work: Path) -> Run:
    """PublishEvent at a steady rate; latency = sink receipt - publish call start."""
    with ProcessStack(work) as stack:
        sink = await start_sink(stack)
        hookwire = await start_serve(stack)
        async with Api(hookwire.address) as api, SinkClient(sink.port) as receiver:
            await api.subscribe(sink.url("/latency"), ["bench.latency"])
            out = Published()
            meter = CpuMeter([hookwire.proc.popen.pid, sink.proc.popen.pid, os.getpid()])
            rate, seconds = s.latency_rate, s.latency_seconds
            achieved, acks = await paced(api, "bench.latency", rate, seconds, out)
            usage = meter.summary()
            await receiver.wait_count(len(out.ids), 60)
            records = await receiver.records()
            check_exactly_once(records, set(out.ids), "latency")
            await receiver.check_clean()
    skip = int(s.latency_rate * s.latency_warmup)
    seq_of = {event_id: seq for seq, event_id in enumerate(out.ids)}
    samples = [r[3] * 1000 for r in records if seq_of[r[1]] >= skip]
    check(len(samples) >= 100 and min(samples) >= 0, "too few or negative latency samples")
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    ack = statistics.quantiles(acks[skip:], n=100, method="inclusive")
    notes = [
        f"{len(samples)} samples, max {max(samples):.1f} ms, publish rate {achieved:.0f}/s",
        f"PublishEvent acknowledged after p50 {ack[49]:.1f} ms, p99 {ack[98]:.1f} ms",
        usage,
    ]
    if achieved < 0.95 * s.latency_rate:
        notes.append(f"publisher fell behind: {achieved:.0f}/s of {s.latency_rate:.0f}/s")
    return Run({"latency_p50_ms": cuts[49], "latency_p99_ms": cuts[98]}, notes)
