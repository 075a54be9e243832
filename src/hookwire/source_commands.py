"""`hookwire sources ...`: manage inbound sources (providers and connectors)."""

from __future__ import annotations

import argparse

import grpc

from hookwire.client_commands import _pairs, _print
from hookwire.v1 import sources_pb2 as pb
from hookwire.v1 import sources_pb2_grpc as rpc


def add_source_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sources = commands.add_parser("sources").add_subparsers(dest="action", required=True)
    create = sources.add_parser("create")
    create.add_argument("--provider", required=True, help="github, stripe, ..., connector")
    create.add_argument("--secret", default="", help="what the provider signs with")
    create.add_argument("--prefix", default="", help="event type prefix (default: provider)")
    create.add_argument("--option", action="append", metavar="KEY=VALUE")
    create.add_argument("--description", default="")
    sources.add_parser("get").add_argument("id")
    listing = sources.add_parser("list")
    listing.add_argument("--provider", default="")
    listing.add_argument("--page-size", type=int, default=0)
    listing.add_argument("--page-token", default="")
    sources.add_parser("delete").add_argument("id")
    rotate = sources.add_parser("rotate")
    rotate.add_argument("id")
    rotate.add_argument("--secret", default="", help="the new secret (generated for connectors)")
    rotate.add_argument("--overlap-seconds", type=int, default=None)


def run_source_command(args: argparse.Namespace, channel: grpc.Channel) -> None:
    stub = rpc.SourceServiceStub(channel)
    if args.action == "create":
        source = pb.Source(
            provider=args.provider, secret=args.secret, event_type_prefix=args.prefix,
            options=_pairs(args.option, "--option"), description=args.description,
        )  # fmt: skip
        _print(stub.CreateSource(pb.CreateSourceRequest(source=source)))
    elif args.action == "get":
        _print(stub.GetSource(pb.GetSourceRequest(id=args.id)))
    elif args.action == "list":
        request = pb.ListSourcesRequest(
            page_size=args.page_size, page_token=args.page_token, provider=args.provider
        )
        _print(stub.ListSources(request))
    elif args.action == "delete":
        stub.DeleteSource(pb.DeleteSourceRequest(id=args.id))
        print(f"deleted {args.id}")
    elif args.action == "rotate":
        rotation = pb.RotateSourceSecretRequest(id=args.id, secret=args.secret)
        if args.overlap_seconds is not None:
            rotation.overlap.seconds = args.overlap_seconds
        _print(stub.RotateSourceSecret(rotation))
