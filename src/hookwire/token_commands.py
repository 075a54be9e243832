"""`hookwire tokens ...`: manage API tokens (the admin role only)."""

from __future__ import annotations

import argparse

import grpc

from hookwire.client import add_paging, print_message, rpc_command
from hookwire.durations import parse_duration
from hookwire.v1 import tokens_pb2, tokens_pb2_grpc

ROLES = ("admin", "manager", "publisher", "reader", "gateway")


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    tokens = commands.add_parser("tokens").add_subparsers(dest="action", required=True)
    create = tokens.add_parser("create", help="make a token; its secret is shown once")
    create.add_argument("--role", required=True, choices=ROLES)
    create.add_argument(
        "--event-type", action="append", default=[], metavar="PATTERN",
        help="publishers only: a type pattern it may publish (repeatable; default any)",
    )  # fmt: skip
    create.add_argument("--description", default="")
    create.add_argument("--expires-in", default="", help="e.g. 30d (default: never)")
    create.set_defaults(handler=rpc_command(_create))
    listing = tokens.add_parser("list")
    add_paging(listing)
    listing.set_defaults(handler=rpc_command(_list))
    revoke = tokens.add_parser("revoke", help="revoke at once, open streams included")
    revoke.add_argument("id")
    revoke.set_defaults(handler=rpc_command(_revoke))


def _create(args: argparse.Namespace, channel: grpc.Channel) -> None:
    token = tokens_pb2.Token(
        role=tokens_pb2.Role.Value(f"ROLE_{args.role.upper()}"),
        event_types=args.event_type,
        description=args.description,
    )
    if args.expires_in:
        try:
            lifetime = parse_duration(args.expires_in)
        except ValueError as exc:
            raise SystemExit(f"hookwire: --expires-in: {exc}") from None
        token.expire_time.GetCurrentTime()
        token.expire_time.FromNanoseconds(token.expire_time.ToNanoseconds() + round(lifetime * 1e9))
    stub = tokens_pb2_grpc.TokenServiceStub(channel)
    print_message(stub.CreateToken(tokens_pb2.CreateTokenRequest(token=token)))


def _list(args: argparse.Namespace, channel: grpc.Channel) -> None:
    request = tokens_pb2.ListTokensRequest(page_size=args.page_size, page_token=args.page_token)
    print_message(tokens_pb2_grpc.TokenServiceStub(channel).ListTokens(request))


def _revoke(args: argparse.Namespace, channel: grpc.Channel) -> None:
    request = tokens_pb2.RevokeTokenRequest(id=args.id)
    print_message(tokens_pb2_grpc.TokenServiceStub(channel).RevokeToken(request))
