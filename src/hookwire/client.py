"""Talking to a running broker from the command line: what every client command shares.

A command opens a channel to `--address`, makes its calls, and prints each reply as the
JSON of its message, so the output is the API's own field names. A failed call is one
line on stderr and exit code 1, never a traceback: it is an expected failure.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message


def rpc_command(
    run: Callable[[argparse.Namespace, grpc.Channel], None],
) -> Callable[[argparse.Namespace], int]:
    """The handler for a command that calls the broker: `run` with a channel to `--address`."""

    def handler(args: argparse.Namespace) -> int:
        with grpc.insecure_channel(args.address) as channel:
            try:
                run(args, channel)
            except grpc.RpcError as exc:
                print(f"hookwire: {exc.code().name}: {exc.details()}", file=sys.stderr)
                return 1
        return 0

    return handler


def add_paging(parser: argparse.ArgumentParser) -> None:
    """The flags of every `list` command, passed as they are to the List* request."""
    parser.add_argument("--page-size", type=int, default=0)
    parser.add_argument("--page-token", default="")


def pairs(values: list[str] | None, flag: str) -> dict[str, str]:
    """`KEY=VALUE` flags (headers, attributes, options) as a map; a bad one stops the command."""
    result = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"hookwire: {flag} must be KEY=VALUE, got {item!r}")
        result[key] = value
    return result


def print_message(message: Message) -> None:
    print(json_format.MessageToJson(message, preserving_proto_field_name=True, indent=2))
