"""The `hookwire` command: run the server parts, or talk to a running broker."""

from __future__ import annotations

import argparse
import logging
import os
import sys

# Gateways are started with exec, never forked to run gRPC, so gRPC's fork handlers only
# print warnings ("skipping fork() handlers"). Read once, when grpc is first imported.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")

from hookwire import client_commands, listen, serve, source_commands, token_commands

DEFAULT_ADDRESS = os.environ.get("HOOKWIRE_GRPC_ADDRESS", "127.0.0.1:50051")


def build_parser() -> argparse.ArgumentParser:
    """Every command's parser; each sets the `handler` that runs it and returns the exit code."""
    parser = argparse.ArgumentParser(prog="hookwire", description=__doc__)
    parser.add_argument("--address", default=DEFAULT_ADDRESS, help="broker gRPC address")
    parser.add_argument(
        "--token",
        default="",
        help="API token (default: HOOKWIRE_TOKEN, or the admin token a local serve wrote)",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve.add_parsers(commands)
    listen.add_parsers(commands)
    client_commands.add_parsers(commands)
    source_commands.add_parsers(commands)
    token_commands.add_parsers(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=os.environ.get("HOOKWIRE_LOG_LEVEL", "INFO"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    exit_code: int = args.handler(args)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
