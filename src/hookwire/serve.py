"""`hookwire serve|broker|gateway`: run the server parts in the foreground.

`serve` runs the broker in this process plus gateway child processes. On SIGTERM the
gateways drain first (finish and report what they hold), then the broker goes NOT_SERVING,
finishes in-flight calls, commits what is queued, and exits.

The server packages are imported inside the functions that run them: `hookwire.cli`
imports this module to register its commands, and a client command loads nothing of the
server.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import signal
import socket
import sys
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, TypeVar

from hookwire.durations import parse_duration, parse_durations
from hookwire.settings import count, setting

if TYPE_CHECKING:
    from broker.config import BrokerConfig

T = TypeVar("T")

log = logging.getLogger("hookwire")
GATEWAY_DRAIN_SECONDS = 30.0
# The listening socket `serve` hands its gateways: one bind, so a second `serve` on the
# same address fails instead of silently sharing it through SO_REUSEPORT.
HTTP_FD_ENV = "HOOKWIRE_HTTP_FD"


def flag_type(parse: Callable[[str], T]) -> Callable[[str], T]:
    """`parse` as an argparse `type`, so a bad flag value says what is wrong with it."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser("serve", help="run the broker and gateway process(es)")
    broker = commands.add_parser("broker", help="run the broker only")
    for parser in (serve, broker):
        parser.add_argument("--database-url", default=None, help="default: HOOKWIRE_DATABASE_URL")
        parser.add_argument("--grpc-address", default=None, help="default: HOOKWIRE_GRPC_ADDRESS")
        parser.add_argument(
            "--retry-schedule", default=None, help="e.g. 5s,5m,30m (server default)"
        )
        parser.add_argument(
            "--lease-seconds", type=flag_type(parse_duration), default=None, help="e.g. 60, 2m"
        )
        # Own dests: the top-level --tls-cert/--tls-key are a client's (hookwire.client).
        parser.add_argument(
            "--tls-cert", dest="server_tls_cert", default=None, help="default: HOOKWIRE_TLS_CERT"
        )
        parser.add_argument(
            "--tls-key", dest="server_tls_key", default=None, help="default: HOOKWIRE_TLS_KEY"
        )
        parser.add_argument(
            "--tls-client-ca",
            dest="server_tls_client_ca",
            default=None,
            help="accept client certificates from this CA (default: HOOKWIRE_TLS_CLIENT_CA)",
        )
    serve.add_argument(
        "--http-address", default=os.environ.get("HOOKWIRE_HTTP_ADDRESS", "127.0.0.1:8080")
    )
    # Two: a gateway does most of the work per delivery (HTTP, signing), so one broker
    # keeps two busy; measured on two cores, end-to-end throughput rises by about a sixth.
    serve.add_argument(
        "--gateways",
        type=flag_type(count(1)),
        default=None,
        help="gateway processes (default 2, or HOOKWIRE_GATEWAYS)",
    )
    serve.set_defaults(handler=_serve_command)
    broker.set_defaults(handler=_broker_command)

    gateway = commands.add_parser("gateway", help="run one gateway process")
    gateway.add_argument("--gateway-id", default=None)
    gateway.add_argument("--concurrency", type=flag_type(count(1)), default=None)
    gateway.add_argument(
        "--parent-pid", type=flag_type(count(1)), default=None, help=argparse.SUPPRESS
    )
    gateway.set_defaults(handler=_gateway_command)


def _serve_command(args: argparse.Namespace) -> int:
    return _run_broker(args, args.http_address, args.gateways)


def _broker_command(args: argparse.Namespace) -> int:
    return _run_broker(args, http_address="", gateways=0)


def _run_broker(args: argparse.Namespace, http_address: str, gateways: int | None) -> int:
    """Until SIGTERM; a bad setting, a taken port or an unreachable store is one line, exit 1.

    Every setting, the gateways' included, is read before anything starts: a gateway that
    cannot run with them would otherwise be restarted in a loop.
    """
    from broker.storage.contract import StoreError
    from gateway.main import GatewayConfig, run_fast

    try:
        config = config_from_flags(args)
        if http_address:
            if gateways is None:
                gateways = setting(os.environ, "HOOKWIRE_GATEWAYS", count(1), 2)
            GatewayConfig.from_env(http_address=http_address)
        _check_free(config.grpc_address)
        listening = listen_http(http_address) if http_address else None
        try:
            run_fast(serve(config, http_address, gateways or 0, listening))
        finally:
            if listening is not None:
                listening.close()
    except (OSError, StoreError, ValueError) as exc:
        print(f"hookwire: {exc}", file=sys.stderr)
        return 1
    return 0


def _gateway_command(args: argparse.Namespace) -> int:
    from gateway.main import GatewayConfig, run

    try:
        config = GatewayConfig.from_env(
            gateway_id=args.gateway_id, concurrency=args.concurrency, parent_pid=args.parent_pid
        )
        run(config)
    except (OSError, ValueError) as exc:
        print(f"hookwire: {exc}", file=sys.stderr)
        return 1
    return 0


def listen_http(address: str) -> socket.socket:
    """A socket listening on `address` (`host:port`), bound once for all the gateways.

    SO_REUSEADDR only (restarts need not wait out TIME_WAIT), never SO_REUSEPORT: a
    second server on a taken address is an error naming it.
    """
    listening = _bind(address)
    listening.listen(1024)
    listening.set_inheritable(True)
    return listening


def _check_free(address: str) -> None:
    """Fails naming `address` when it is taken; gRPC's own failure to bind would also print
    a line of its core's log."""
    _bind(address).close()


def _bind(address: str) -> socket.socket:
    host, _, port = address.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    try:
        infos = socket.getaddrinfo(host, int(port), type=socket.SOCK_STREAM)
    except (socket.gaierror, ValueError) as exc:
        raise OSError(f"cannot listen on {address}: not a usable address ({exc})") from None
    family, kind, proto, _, sockaddr = infos[0]
    listening = socket.socket(family, kind, proto)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind(sockaddr)
    except OSError as exc:
        listening.close()
        raise OSError(f"cannot listen on {address}: {exc.strerror or exc}") from None
    return listening


def config_from_flags(
    flags: argparse.Namespace, env: Mapping[str, str] | None = None
) -> BrokerConfig:
    """The settings `env` (default: the process environment) gives, overridden by `flags`.

    Each flag replaces one field of the nested settings, so a flag never resets what the
    environment said about the fields beside it (`--retry-schedule` keeps
    HOOKWIRE_DISABLE_AFTER, `--lease-seconds` keeps HOOKWIRE_MAX_IN_FLIGHT_PER_SUBSCRIPTION).
    """
    from broker.config import BrokerConfig

    env = os.environ if env is None else env
    config = BrokerConfig.from_env(env)
    if flags.database_url is not None:
        config = replace(config, database_url=flags.database_url)
    if flags.grpc_address is not None:
        config = replace(config, grpc_address=flags.grpc_address)
    http_address = getattr(flags, "http_address", None)  # `hookwire broker` runs no gateway
    if http_address and not env.get("HOOKWIRE_PUBLIC_URL"):
        config = replace(config, public_url=f"http://{http_address}")
    if flags.retry_schedule:
        try:
            schedule = parse_durations(flags.retry_schedule)
        except ValueError as exc:
            raise ValueError(f"--retry-schedule: {exc}") from None
        config = replace(config, retry=replace(config.retry, schedule=schedule))
    if flags.lease_seconds:
        dispatch = replace(config.dispatch, lease_seconds=flags.lease_seconds)
        config = replace(config, dispatch=dispatch)
    for name in ("tls_cert", "tls_key", "tls_client_ca"):
        value = getattr(flags, f"server_{name}", None)
        if value is not None:
            config = replace(config, **{name: value})
    return config.checked()


async def _spawn_gateway(
    config: BrokerConfig,
    broker_address: str,
    http_address: str,
    index: int,
    listening: socket.socket,
) -> asyncio.subprocess.Process:
    env = dict(
        os.environ,
        HOOKWIRE_GRPC_ADDRESS=broker_address,
        HOOKWIRE_HTTP_ADDRESS=http_address,
        HOOKWIRE_GATEWAY_TOKEN=config.access.gateway,
    )
    if config.tls_cert and not env.get("HOOKWIRE_TLS_CA"):
        # Trust the broker's own certificate: right for a self-signed one; a certificate
        # from a CA needs HOOKWIRE_TLS_CA naming that CA, which the environment carries.
        env["HOOKWIRE_TLS_CA"] = config.tls_cert  # the children share its working directory
    env[HTTP_FD_ENV] = str(listening.fileno())
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
        pass_fds=(listening.fileno(),),
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


async def serve(
    config: BrokerConfig, http_address: str, gateways: int, listening: socket.socket | None
) -> None:
    from broker.clock import clock_from_env
    from broker.server import Broker

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # Its own gateways get a gateway credential without the operator doing anything: the
    # provisioned one, or one made for this run (never stored, gone when serve stops).
    token = config.access.gateway or secrets.token_urlsafe(32)
    config = replace(config, access=replace(config.access, gateway=token))
    # The real clock unless HOOKWIRE_CLOCK_FILE names a test clock (broker.clock.FileClock).
    broker = await Broker.start(config, clock=clock_from_env())
    host = config.grpc_address.rpartition(":")[0] or "127.0.0.1"
    broker_address = f"{host}:{broker.port}"
    print(f"hookwire: broker listening on {broker_address}", flush=True)
    if listening is None:
        gateways = 0
    children = [
        await _spawn_gateway(config, broker_address, http_address, i, listening)
        for i in range(gateways)
        if listening is not None
    ]
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
                assert listening is not None  # no gateway was started without one
                children[index] = await _spawn_gateway(
                    config, broker_address, http_address, index, listening
                )
                watchers[index] = asyncio.create_task(children[index].wait())
    print("hookwire: shutting down", flush=True)
    await _stop_gateways(children)
    await broker.stop()
    print("hookwire: stopped", flush=True)
