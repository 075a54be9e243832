"""Which HTTP client stack should the gateway send with? Measures httpx's default
transport, httpx over aiohttp (httpx-aiohttp), and plain aiohttp: 1 KiB JSON POSTs at
concurrency 64, keep-alive, against a loopback aiohttp sink in its own process.

Run: .venv/bin/python bench/transports.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import time
from collections.abc import Awaitable, Callable

import aiohttp
import httpx
import uvloop
from aiohttp import web
from httpx_aiohttp import AiohttpTransport

BODY = json.dumps({"pad": "x" * 1000}).encode()
CONCURRENCY = 64


def _sink(port: int) -> None:
    async def ok(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/", ok)
    uvloop.run(web._run_app(app, host="127.0.0.1", port=port, print=None, access_log=None))


async def _drive(post: Callable[[], Awaitable[int]], seconds: float) -> tuple[float, float]:
    done = 0
    end = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal done
        while time.monotonic() < end:
            assert await post() == 200
            done += 1

    cpu, wall = time.process_time(), time.monotonic()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return done / (time.monotonic() - wall), (time.process_time() - cpu) / done * 1e6


async def _measure(url: str, seconds: float) -> dict[str, tuple[float, float]]:
    results = {}
    headers = {"content-type": "application/json"}
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=CONCURRENCY)) as client:

        async def via_httpx() -> int:
            return (await client.post(url, content=BODY, headers=headers)).status_code

        results["httpx (default transport)"] = await _drive(via_httpx, seconds)
    transport = AiohttpTransport(client=lambda: aiohttp.ClientSession())
    async with httpx.AsyncClient(transport=transport) as client:

        async def via_httpx_aiohttp() -> int:
            return (await client.post(url, content=BODY, headers=headers)).status_code

        results["httpx over aiohttp (httpx-aiohttp)"] = await _drive(via_httpx_aiohttp, seconds)
    async with aiohttp.ClientSession() as session:

        async def via_aiohttp() -> int:
            async with session.post(url, data=BODY, headers=headers) as response:
                await response.read()
                return response.status

        results["aiohttp"] = await _drive(via_aiohttp, seconds)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sink = multiprocessing.Process(target=_sink, args=(port,), daemon=True)
    sink.start()
    try:
        for _ in range(100):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        results = uvloop.run(_measure(f"http://127.0.0.1:{port}/", args.seconds))
    finally:
        sink.kill()
    print(f"{'client':38} {'req/s':>8} {'CPU µs/req':>11}   ({os.cpu_count()} cores)")
    for name, (rate, cpu) in results.items():
        print(f"{name:38} {rate:8.0f} {cpu:11.0f}")


if __name__ == "__main__":
    main()
