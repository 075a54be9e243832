"""`hookwire.v1.SourceService`. Secrets leave only through ResolveSource (for gateways);
a connector's URL, which is its credential, only through Create and Rotate."""

from __future__ import annotations

from typing import Any

import grpc

from broker.errors import InvalidArgument
from broker.grpc import convert
from broker.sources import SourceManager
from hookwire.v1 import sources_pb2 as pb
from hookwire.v1 import sources_pb2_grpc as rpc

Context = grpc.aio.ServicerContext[Any, Any]


class SourceService(rpc.SourceServiceServicer):
    def __init__(self, sources: SourceManager, public_url: str) -> None:
        self._sources = sources
        self._public_url = public_url

    async def CreateSource(
        self, request: pb.CreateSourceRequest, context: Context
    ) -> pb.CreateSourceResponse:
        if not request.HasField("source"):
            raise InvalidArgument("source", "is required")
        created = await self._sources.create(convert.source_from_pb(request.source))
        return pb.CreateSourceResponse(
            source=convert.source_pb(created, self._public_url, with_credential=True)
        )

    async def GetSource(
        self, request: pb.GetSourceRequest, context: Context
    ) -> pb.GetSourceResponse:
        source = await self._sources.get(request.id)
        return pb.GetSourceResponse(source=convert.source_pb(source, self._public_url))

    async def ListSources(
        self, request: pb.ListSourcesRequest, context: Context
    ) -> pb.ListSourcesResponse:
        sources, token = await self._sources.list_page(
            request.page_size, request.page_token, request.provider
        )
        return pb.ListSourcesResponse(
            sources=[convert.source_pb(s, self._public_url) for s in sources],
            next_page_token=token,
        )

    async def DeleteSource(
        self, request: pb.DeleteSourceRequest, context: Context
    ) -> pb.DeleteSourceResponse:
        await self._sources.delete(request.id)
        return pb.DeleteSourceResponse()

    async def RotateSourceSecret(
        self, request: pb.RotateSourceSecretRequest, context: Context
    ) -> pb.RotateSourceSecretResponse:
        overlap = convert.seconds_if_set(request, "overlap")
        source = await self._sources.rotate_secret(request.id, request.secret, overlap)
        return pb.RotateSourceSecretResponse(
            source=convert.source_pb(source, self._public_url, with_credential=True)
        )

    async def ResolveSource(
        self, request: pb.ResolveSourceRequest, context: Context
    ) -> pb.ResolveSourceResponse:
        resolved = await self._sources.resolve(request.id)
        return pb.ResolveSourceResponse(
            source=convert.source_pb(resolved.source, self._public_url),
            secrets=resolved.secrets,
            deleted=resolved.deleted,
        )
