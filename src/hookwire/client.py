"""Talking to a running broker from the command line: what every client command shares.

A command opens a channel to `--address` carrying its API token, makes its calls, and
prints each reply as the JSON of its message, so the output is the API's own field names.
A failed call is one line on stderr and exit code 1, never a traceback: it is an expected
failure.

The token is the first of `--token`, `HOOKWIRE_TOKEN`, and the admin token a local
`hookwire serve` wrote beside its database (`hookwire.local_token`), so the commands work
against `make run` with no setup.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message

from hookwire.local_token import admin_token_file

DEFAULT_DATABASE_URL = "sqlite:///./hookwire.db"


def find_token(flag: str, env: Mapping[str, str]) -> str:
    """The API token to call with: the flag, the environment, or the local admin token."""
    if flag or env.get("HOOKWIRE_TOKEN"):
        return flag or env["HOOKWIRE_TOKEN"]
    path = admin_token_file(env.get("HOOKWIRE_DATABASE_URL", DEFAULT_DATABASE_URL))
    try:
        return path.read_text().strip() if path else ""
    except OSError:
        return ""


class BearerToken(grpc.UnaryUnaryClientInterceptor):
    """Adds `authorization: Bearer <token>` to every call."""

    def __init__(self, token: str) -> None:
        self._header = ("authorization", f"Bearer {token}")

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        metadata = [*(details.metadata or ()), self._header]
        return continuation(details._replace(metadata=metadata), request)


def rpc_command(
    run: Callable[[argparse.Namespace, grpc.Channel], None],
) -> Callable[[argparse.Namespace], int]:
    """The handler for a command that calls the broker: `run` with a channel to `--address`."""

    def handler(args: argparse.Namespace) -> int:
        token = find_token(args.token, os.environ)
        with grpc.insecure_channel(args.address) as plain:
            channel = grpc.intercept_channel(plain, BearerToken(token)) if token else plain
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
