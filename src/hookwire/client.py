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
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import json_format
from google.protobuf.message import Message

from hookwire.local_token import admin_token_file
from hookwire.settings import SettingError

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


@dataclass(frozen=True)
class TlsFiles:
    """PEM files a client reaches a TLS broker with: the CA it trusts the broker's
    certificate by, and optionally its own certificate and key (mutual TLS, in place of a
    token). The client names differ from the broker's (`HOOKWIRE_TLS_CERT`), so a shell
    that runs both never makes a client present the server's certificate.

    The gateway shares this: one rule for what a TLS client reads.
    """

    ca: str = ""
    cert: str = ""
    key: str = ""

    @classmethod
    def from_env(
        cls, env: Mapping[str, str], ca: str = "", cert: str = "", key: str = ""
    ) -> TlsFiles:
        """Flags (non-empty arguments) win over `HOOKWIRE_TLS_CA`, `HOOKWIRE_TLS_CLIENT_CERT`
        and `HOOKWIRE_TLS_CLIENT_KEY`; a certificate without its key is a SettingError."""
        files = cls(
            ca=ca or env.get("HOOKWIRE_TLS_CA", "").strip(),
            cert=cert or env.get("HOOKWIRE_TLS_CLIENT_CERT", "").strip(),
            key=key or env.get("HOOKWIRE_TLS_CLIENT_KEY", "").strip(),
        )
        if bool(files.cert) != bool(files.key):
            name = "HOOKWIRE_TLS_CLIENT_KEY" if files.cert else "HOOKWIRE_TLS_CLIENT_CERT"
            raise SettingError(name, "a client certificate and its key go together")
        return files

    @property
    def enabled(self) -> bool:
        return bool(self.ca or self.cert)

    def credentials(self) -> grpc.ChannelCredentials:
        """TLS channel credentials; no CA means the system's trusted roots.

        gRPC checks the broker's certificate against the host of the address dialled, so
        the certificate must name it (an IP SAN such as 127.0.0.1 for a loopback address).
        """

        def read(path: str) -> bytes | None:
            if not path:
                return None
            with open(path, "rb") as file:
                return file.read()

        return grpc.ssl_channel_credentials(
            root_certificates=read(self.ca),
            private_key=read(self.key),
            certificate_chain=read(self.cert),
        )


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
        try:
            tls = TlsFiles.from_env(os.environ, args.tls_ca, args.tls_cert, args.tls_key)
            # A client certificate stands in for a token: a token given explicitly still
            # wins (the broker checks it first), the local admin token file is not read.
            token = (
                args.token or os.environ.get("HOOKWIRE_TOKEN", "")
                if tls.cert
                else find_token(args.token, os.environ)
            )
            base = (
                grpc.secure_channel(args.address, tls.credentials())
                if tls.enabled
                else grpc.insecure_channel(args.address)
            )
        except (OSError, ValueError) as exc:
            print(f"hookwire: {exc}", file=sys.stderr)
            return 1
        with base:
            channel = grpc.intercept_channel(base, BearerToken(token)) if token else base
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
