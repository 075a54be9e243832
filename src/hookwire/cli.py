"""The `hookwire` command: run the server parts, or talk to a running broker."""

from __future__ import annotations

import argparse
import logging
import os
import sys

# Gateways are started with exec, never forked to run gRPC, so gRPC's fork handlers only
# print warnings ("skipping fork() handlers"). Read once, when grpc is first imported.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "0")

from typing import NoReturn

from hookwire import (
    client_commands,
    key_commands,
    listen,
    serve,
    source_commands,
    token_commands,
)
from hookwire.settings import log_level, setting

DEFAULT_ADDRESS = os.environ.get("HOOKWIRE_GRPC_ADDRESS", "127.0.0.1:50051")
USAGE_ERROR = 2  # argparse's exit code for a bad command line


class Parser(argparse.ArgumentParser):
    """argparse, but a bad command line is one line (`--help` still shows the usage)."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"hookwire: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """Every command's parser; each sets the `handler` that runs it and returns the exit code."""
    parser: argparse.ArgumentParser = Parser(prog="hookwire", description=__doc__)
    parser.add_argument("--address", default=DEFAULT_ADDRESS, help="broker gRPC address")
    parser.add_argument(
        "--token",
        default="",
        help="API token (default: HOOKWIRE_TOKEN, or the admin token a local serve wrote)",
    )
    parser.add_argument("--tls-ca", default="", help="CA to trust the broker by (HOOKWIRE_TLS_CA)")
    parser.add_argument(
        "--tls-cert",
        default="",
        help="client certificate for mutual TLS (HOOKWIRE_TLS_CLIENT_CERT)",
    )
    parser.add_argument(
        "--tls-key", default="", help="the client certificate's key (HOOKWIRE_TLS_CLIENT_KEY)"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    serve.add_parsers(commands)
    listen.add_parsers(commands)
    client_commands.add_parsers(commands)
    source_commands.add_parsers(commands)
    token_commands.add_parsers(commands)
    key_commands.add_parsers(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        level = setting(os.environ, "HOOKWIRE_LOG_LEVEL", log_level, "INFO")
    except ValueError as exc:
        print(f"hookwire: {exc}", file=sys.stderr)
        return 1
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        exit_code: int = args.handler(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`hookwire events list | head`): say so once, and keep the
        # interpreter from failing again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print("hookwire: output closed before it was all written", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("hookwire: interrupted", file=sys.stderr)
        return 130  # as a shell reports a command stopped by SIGINT
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
