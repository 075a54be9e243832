"""The `hookwire` command: run the server parts, or talk to a running broker."""

from __future__ import annotations

import argparse
import logging
import os
import sys

# Gateways are started with exec, never forked to run gRPC, so gRPC's fork handlers only
# print warnings ("skipping fork() handlers"). Read once, when grpc is first imported.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")

from hookwire.source_commands import add_source_parsers

DEFAULT_ADDRESS = os.environ.get("HOOKWIRE_GRPC_ADDRESS", "127.0.0.1:50051")


def _paging(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--page-size", type=int, default=0)
    parser.add_argument("--page-token", default="")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hookwire", description=__doc__)
    parser.add_argument("--address", default=DEFAULT_ADDRESS, help="broker gRPC address")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the broker and gateway process(es)")
    broker = commands.add_parser("broker", help="run the broker only")
    for p in (serve, broker):
        p.add_argument("--database-url", default=None, help="default: HOOKWIRE_DATABASE_URL")
        p.add_argument("--grpc-address", default=None, help="default: HOOKWIRE_GRPC_ADDRESS")
        p.add_argument("--retry-schedule", default=None, help="e.g. 5s,5m,30m (server default)")
        p.add_argument("--lease-seconds", type=float, default=None)
    serve.add_argument(
        "--http-address", default=os.environ.get("HOOKWIRE_HTTP_ADDRESS", "127.0.0.1:8080")
    )
    # Two: a gateway does most of the work per delivery (HTTP, signing), so one broker
    # keeps two busy; measured on two cores, end-to-end throughput rises by about a sixth.
    serve.add_argument(
        "--gateways",
        type=int,
        default=int(os.environ.get("HOOKWIRE_GATEWAYS", "2")),
        help="gateway processes (default 2, or HOOKWIRE_GATEWAYS)",
    )

    gateway = commands.add_parser("gateway", help="run one gateway process")
    gateway.add_argument("--gateway-id", default=None)
    gateway.add_argument("--concurrency", type=int, default=None)
    gateway.add_argument("--parent-pid", type=int, default=None, help=argparse.SUPPRESS)

    receiver = commands.add_parser("listen", help="run a local webhook receiver for trying")
    receiver.add_argument("--host", default="127.0.0.1")
    receiver.add_argument("--port", type=int, default=9000)
    receiver.add_argument("--secret", default="", help="whsec_... to verify signatures")
    receiver.add_argument("--status", type=int, default=200, help="status to answer webhooks")

    publish = commands.add_parser("publish", help="publish an event")
    publish.add_argument("--type", required=True)
    publish.add_argument("--data", default="", help="payload, or - for stdin")
    publish.add_argument("--content-type", default="")
    publish.add_argument("--attribute", action="append", metavar="KEY=VALUE")
    publish.add_argument("--idempotency-key", default="")

    events = commands.add_parser("events").add_subparsers(dest="action", required=True)
    events.add_parser("get").add_argument("id")
    listing = events.add_parser("list")
    _paging(listing)
    listing.add_argument("--type", default="")

    subs = commands.add_parser("subscriptions").add_subparsers(dest="action", required=True)
    create = subs.add_parser("create")
    create.add_argument("--url", required=True)
    create.add_argument("--event-type", action="append", required=True, metavar="PATTERN")
    create.add_argument("--header", action="append", metavar="KEY=VALUE")
    create.add_argument("--property", action="append", metavar="KEY=VALUE")
    create.add_argument("--client-state", default="")
    create.add_argument("--description", default="")
    create.add_argument("--secret", default="")
    create.add_argument("--retry-schedule", default=None, help="e.g. 1s,10s,1m")
    create.add_argument("--payload-mode", default="full", choices=["full", "thin"])
    create.add_argument(
        "--verification", default="echo_token",
        choices=["echo_token", "websub_challenge", "cloudevents_options", "none"],
    )  # fmt: skip
    subs.add_parser("get").add_argument("id")
    _paging(subs.add_parser("list"))
    update = subs.add_parser("update")
    update.add_argument("id")
    update.add_argument("--url")
    update.add_argument("--event-type", action="append", metavar="PATTERN")
    update.add_argument("--description")
    subs.add_parser("delete").add_argument("id")

    deliveries = commands.add_parser("deliveries").add_subparsers(dest="action", required=True)
    dlist = deliveries.add_parser("list")
    _paging(dlist)
    dlist.add_argument("--subscription", default="")
    dlist.add_argument("--event", default="")
    dlist.add_argument(
        "--state", default="", choices=["", "pending", "delivered", "exhausted", "failed"]
    )
    deliveries.add_parser("retry").add_argument("id")

    add_source_parsers(commands)

    attempts = commands.add_parser("attempts").add_subparsers(dest="action", required=True)
    alist = attempts.add_parser("list")
    alist.add_argument("delivery_id")
    _paging(alist)
    return parser


def _broker_config(args: argparse.Namespace) -> object:
    from broker.config import BrokerConfig, parse_schedule
    from broker.dispatcher import DispatchSettings
    from broker.retry_policy import RetryPolicy

    base = BrokerConfig.from_env()
    overrides: dict[str, object] = {
        "database_url": args.database_url,
        "grpc_address": args.grpc_address,
    }
    if getattr(args, "http_address", None) and not os.environ.get("HOOKWIRE_PUBLIC_URL"):
        overrides["public_url"] = f"http://{args.http_address}"
    if args.retry_schedule:
        overrides["retry"] = RetryPolicy(schedule=parse_schedule(args.retry_schedule))
    if args.lease_seconds:
        overrides["dispatch"] = DispatchSettings(
            lease_seconds=args.lease_seconds, request_timeout=base.dispatch.request_timeout
        )
    return BrokerConfig.from_env(overrides=overrides)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("HOOKWIRE_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.command in ("serve", "broker"):
        from broker.storage.contract import StoreError
        from gateway.main import run_fast
        from hookwire.serve import serve

        gateways = args.gateways if args.command == "serve" else 0
        address = args.http_address if args.command == "serve" else ""
        try:
            run_fast(serve(_broker_config(args), address, gateways))  # type: ignore[arg-type]
        except (OSError, StoreError, ValueError) as exc:
            print(f"hookwire: {exc}", file=sys.stderr)
            return 1
        return 0
    if args.command == "gateway":
        from gateway.main import GatewayConfig, run

        run(
            GatewayConfig.from_env(
                gateway_id=args.gateway_id,
                concurrency=args.concurrency,
                parent_pid=args.parent_pid,
            )
        )
        return 0
    if args.command == "listen":
        from hookwire.listen import listen

        listen(args.host, args.port, args.secret, args.status)
        return 0
    from hookwire.client_commands import run_client_command

    return run_client_command(args)


if __name__ == "__main__":
    sys.exit(main())
