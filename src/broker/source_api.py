"""`hookwire.v1.SourceService`. Secrets leave only through ResolveSource (for gateways);
a connector's URL, which is its credential, only through Create and Rotate."""

from __future__ import annotations

from typing import Any

import grpc

from broker import proto_convert as pc
from broker.domain import Source
from broker.errors import InvalidArgument
from broker.source_rules import CONNECTOR
from broker.sources import SourceManager
from hookwire.v1 import sources_pb2 as pb
from hookwire.v1 import sources_pb2_grpc as rpc

Context = grpc.aio.ServicerContext[Any, Any]


class SourceApi(rpc.SourceServiceServicer):
    def __init__(self, manager: SourceManager, public_url: str) -> None:
        self._manager = manager
        self._public_url = public_url.rstrip("/")

    def _pb(self, source: Source, *, with_credential: bool = False) -> pb.Source:
        url = f"{self._public_url}/in/{source.id}"
        if source.provider == CONNECTOR:
            url = f"{url}/{source.secret}" if with_credential else ""
        msg = pb.Source(
            id=source.id,
            provider=source.provider,
            event_type_prefix=source.event_type_prefix,
            ingest_url=url,
            options=source.options,
            description=source.description,
            create_time=pc.timestamp(source.create_time),
        )
        if source.previous_secret:
            msg.previous_secret_expire_time.CopyFrom(
                pc.timestamp(source.previous_secret_expire_time)
            )
        return msg

    async def CreateSource(
        self, request: pb.CreateSourceRequest, context: Context
    ) -> pb.CreateSourceResponse:
        if not request.HasField("source"):
            raise InvalidArgument("source", "is required")
        given = request.source
        created = await self._manager.create(
            Source(
                id="",
                provider=given.provider,
                secret=given.secret,
                event_type_prefix=given.event_type_prefix,
                options=dict(given.options),
                description=given.description,
            )
        )
        return pb.CreateSourceResponse(source=self._pb(created, with_credential=True))

    async def GetSource(
        self, request: pb.GetSourceRequest, context: Context
    ) -> pb.GetSourceResponse:
        return pb.GetSourceResponse(source=self._pb(await self._manager.get(request.id)))

    async def ListSources(
        self, request: pb.ListSourcesRequest, context: Context
    ) -> pb.ListSourcesResponse:
        sources, token = await self._manager.list_page(
            request.page_size, request.page_token, request.provider
        )
        return pb.ListSourcesResponse(sources=[self._pb(s) for s in sources], next_page_token=token)

    async def DeleteSource(
        self, request: pb.DeleteSourceRequest, context: Context
    ) -> pb.DeleteSourceResponse:
        await self._manager.delete(request.id)
        return pb.DeleteSourceResponse()

    async def RotateSourceSecret(
        self, request: pb.RotateSourceSecretRequest, context: Context
    ) -> pb.RotateSourceSecretResponse:
        overlap = pc.duration_seconds(request.overlap) if request.HasField("overlap") else None
        source = await self._manager.rotate_secret(request.id, request.secret, overlap)
        return pb.RotateSourceSecretResponse(source=self._pb(source, with_credential=True))

    async def ResolveSource(
        self, request: pb.ResolveSourceRequest, context: Context
    ) -> pb.ResolveSourceResponse:
        resolved = await self._manager.resolve(request.id)
        return pb.ResolveSourceResponse(
            source=self._pb(resolved.source), secrets=resolved.secrets, deleted=resolved.deleted
        )
