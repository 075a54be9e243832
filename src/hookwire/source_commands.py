"""`hookwire sources ...`: manage inbound sources (providers and connectors)."""

from __future__ import annotations

import argparse

import grpc

from hookwire.client import add_paging, pairs, print_message, rpc_command
from hookwire.v1 import sources_pb2, sources_pb2_grpc


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sources = commands.add_parser("sources").add_subparsers(dest="action", required=True)
    create = sources.add_parser("create")
    create.add_argument("--provider", required=True, help="github, stripe, ..., connector")
    create.add_argument("--secret", default="", help="what the provider signs with")
    create.add_argument("--prefix", default="", help="event type prefix (default: provider)")
    create.add_argument("--option", action="append", metavar="KEY=VALUE")
    create.add_argument("--description", default="")
    create.set_defaults(handler=rpc_command(_create))
    get = sources.add_parser("get")
    get.add_argument("id")
    get.set_defaults(handler=rpc_command(_get))
    listing = sources.add_parser("list")
    listing.add_argument("--provider", default="")
    add_paging(listing)
    listing.set_defaults(handler=rpc_command(_list))
    delete = sources.add_parser("delete")
    delete.add_argument("id")
    delete.set_defaults(handler=rpc_command(_delete))
    rotate = sources.add_parser("rotate")
    rotate.add_argument("id")
    rotate.add_argument("--secret", default="", help="the new secret (generated for connectors)")
    rotate.add_argument("--overlap-seconds", type=int, default=None)
    rotate.set_defaults(handler=rpc_command(_rotate))


def _create(args: argparse.Namespace, channel: grpc.Channel) -> None:
    source = sources_pb2.Source(
        provider=args.provider, secret=args.secret, event_type_prefix=args.prefix,
        options=pairs(args.option, "--option"), description=args.description,
    )  # fmt: skip
    request = sources_pb2.CreateSourceRequest(source=source)
    stub = sources_pb2_grpc.SourceServiceStub(channel)
    print_message(stub.CreateSource(request))


def _get(args: argparse.Namespace, channel: grpc.Channel) -> None:
    request = sources_pb2.GetSourceRequest(id=args.id)
    stub = sources_pb2_grpc.SourceServiceStub(channel)
    print_message(stub.GetSource(request))


def _list(args: argparse.Namespace, channel: grpc.Channel) -> None:
    request = sources_pb2.ListSourcesRequest(
        page_size=args.page_size, page_token=args.page_token, provider=args.provider
    )
    stub = sources_pb2_grpc.SourceServiceStub(channel)
    print_message(stub.ListSources(request))


def _delete(args: argparse.Namespace, channel: grpc.Channel) -> None:
    request = sources_pb2.DeleteSourceRequest(id=args.id)
    stub = sources_pb2_grpc.SourceServiceStub(channel)
    stub.DeleteSource(request)
    print(f"deleted {args.id}")


def _rotate(args: argparse.Namespace, channel: grpc.Channel) -> None:
    """Without `--overlap-seconds` the overlap stays unset, so the server's default applies."""
    request = sources_pb2.RotateSourceSecretRequest(id=args.id, secret=args.secret)
    if args.overlap_seconds is not None:
        request.overlap.FromSeconds(args.overlap_seconds)
    stub = sources_pb2_grpc.SourceServiceStub(channel)
    print_message(stub.RotateSourceSecret(request))
