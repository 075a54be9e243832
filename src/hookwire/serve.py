"""`hookwire serve`: the broker in this process plus gateway child processes.

On SIGTERM the gateways drain first (finish and report what they hold), then the broker
goes NOT_SERVING, finishes in-flight calls, commits what is queued, and exits.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys

from broker.clock import clock_from_env
from broker.config import BrokerConfig
from broker.server import Broker

log = logging.getLogger("hookwire")
GATEWAY_DRAIN_SECONDS = 30.0


async def _spawn_gateway(
    broker_address: str, http_address: str, index: int
) -> asyncio.subprocess.Process:
    env = dict(os.environ, HOOKWIRE_GRPC_ADDRESS=broker_address, HOOKWIRE_HTTP_ADDRESS=http_address)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "hookwire.cli",
        "gateway",
        "--gateway-id",
        f"gateway-{index}",
        "--parent-pid",
        str(os.getpid()),
        env=env,
    )


async def _stop_gateways(children: list[asyncio.subprocess.Process]) -> None:
    for child in children:
        if child.returncode is None:
            child.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(asyncio.gather(*(c.wait() for c in children)), GATEWAY_DRAIN_SECONDS)
    except TimeoutError:
        for child in children:
            if child.returncode is None:
                child.kill()


async def serve(config: BrokerConfig, http_address: str, gateways: int) -> None:
    os.environ["GRPC_ENABLE_FORK_SUPPORT"] = "0"  # TEST
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # The real clock unless HOOKWIRE_CLOCK_FILE names a test clock (broker.clock.FileClock).
    broker = await Broker.start(config, clock=clock_from_env())
    host = config.grpc_address.rpartition(":")[0] or "127.0.0.1"
    broker_address = f"{host}:{broker.port}"
    print(f"hookwire: broker listening on {broker_address}", flush=True)
    children = [await _spawn_gateway(broker_address, http_address, i) for i in range(gateways)]
    print(f"hookwire: {gateways} gateway(s) on http://{http_address}", flush=True)
    watchers = [asyncio.create_task(child.wait()) for child in children]
    stopper = asyncio.create_task(stop.wait())
    while not stop.is_set():
        done, _ = await asyncio.wait([stopper, *watchers], return_when=asyncio.FIRST_COMPLETED)
        for index, watcher in enumerate(watchers):
            if watcher in done and not stop.is_set():
                log.warning(
                    "gateway %d exited with %s; restarting", index, children[index].returncode
                )
                children[index] = await _spawn_gateway(broker_address, http_address, index)
                watchers[index] = asyncio.create_task(children[index].wait())
    print("hookwire: shutting down", flush=True)
    await _stop_gateways(children)
    await broker.stop()
    print("hookwire: stopped", flush=True)
