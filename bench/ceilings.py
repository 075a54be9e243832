"""The ceilings the pipeline is held against, measured in the same run on the same machine.

* grpc_noop_unary_cps: a grpc.aio server (own process, on uvloop like the broker)
  whose generic handler answers every 1 KiB request with an empty response; a grpc.aio
  client at concurrency 64. No Python gRPC publisher can beat it, so PublishEvent is
  judged as a fraction of it.
* raw_post_ceiling_rps: an aiohttp keep-alive POST loop on uvloop (concurrency 64, 1 KiB
  JSON) against the same sink the gateway posts to: the fastest plain Python webhook sender.

Run `python bench/ceilings.py --serve-noop` to start the no-op server by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import time

import aiohttp
import grpc
import payload
import uvloop
from clients import SinkClient, check
from load import Rate, closed_loop

NOOP_METHOD = "/bench.Noop/Call"
MESSAGE = b"x" * payload.SIZE


async def serve_noop() -> None:
    async def handle(request: bytes, context: grpc.aio.ServicerContext[bytes, bytes]) -> bytes:
        return b""  # a coroutine: a plain function would run on a thread pool

    handler = grpc.method_handlers_generic_handler(
        "bench.Noop", {"Call": grpc.unary_unary_rpc_method_handler(handle)}
    )
    server = grpc.aio.server()
    server.add_generic_rpc_handlers((handler,))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    print(f"noop listening on 127.0.0.1:{port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await server.stop(1)


async def noop_unary(address: str, concurrency: int, warmup: float, duration: float) -> Rate:
    """Calls per second of the no-op unary method; every response must be empty."""
    async with grpc.aio.insecure_channel(address) as channel:
        call: grpc.aio.UnaryUnaryMultiCallable[bytes, bytes] = channel.unary_unary(NOOP_METHOD)

        async def one(worker: int) -> int:
            reply = await call(MESSAGE, timeout=10)
            check(reply == b"", "no-op server answered something")
            return 1

        return await closed_loop(one, concurrency, warmup, duration)


async def raw_post(sink_port: int, concurrency: int, warmup: float, duration: float) -> Rate:
    """POSTs per second to the sink; the sink must have counted every one we sent."""
    url = f"http://127.0.0.1:{sink_port}/raw/ceiling"
    body = payload.make(0, int(time.time() * 1e6))
    headers = {"content-type": "application/json"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    statuses: dict[int, int] = {}
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(worker: int) -> int:
            async with session.post(url, data=body, headers=headers) as reply:
                await reply.read()
                statuses[reply.status] = statuses.get(reply.status, 0) + 1
            return 1

        rate = await closed_loop(one, concurrency, warmup, duration)
    check(statuses == {200: rate.total}, f"raw POST statuses {statuses}")
    async with SinkClient(sink_port) as sink:
        raw = (await sink.stats())["raw"]
    check(raw == rate.total, f"sink counted {raw} raw POSTs, client sent {rate.total}")
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve-noop", action="store_true", required=True)
    parser.parse_args()
    uvloop.run(serve_noop())


if __name__ == "__main__":
    main()
