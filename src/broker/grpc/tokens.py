"""`hookwire.v1.TokenService`. A token's secret leaves only through CreateToken."""

from __future__ import annotations

from typing import Any

import grpc

from broker.errors import InvalidArgument
from broker.grpc import convert
from broker.tokens import TokenManager
from hookwire.v1 import tokens_pb2 as pb
from hookwire.v1 import tokens_pb2_grpc as rpc

Context = grpc.aio.ServicerContext[Any, Any]


class TokenService(rpc.TokenServiceServicer):
    def __init__(self, tokens: TokenManager) -> None:
        self._tokens = tokens

    async def CreateToken(
        self, request: pb.CreateTokenRequest, context: Context
    ) -> pb.CreateTokenResponse:
        if not request.HasField("token"):
            raise InvalidArgument("token", "is required")
        given = request.token
        token, secret = await self._tokens.create(
            convert.ROLES.from_wire(given.role, "token.role"),
            list(given.event_types),
            given.description,
            convert.seconds_if_set(given, "expire_time", "token.expire_time") or 0.0,
        )
        return pb.CreateTokenResponse(token=convert.token_pb(token), secret=secret)

    async def ListTokens(
        self, request: pb.ListTokensRequest, context: Context
    ) -> pb.ListTokensResponse:
        tokens, page_token = await self._tokens.list_page(request.page_size, request.page_token)
        return pb.ListTokensResponse(
            tokens=[convert.token_pb(t) for t in tokens], next_page_token=page_token
        )

    async def RevokeToken(
        self, request: pb.RevokeTokenRequest, context: Context
    ) -> pb.RevokeTokenResponse:
        return pb.RevokeTokenResponse(token=convert.token_pb(await self._tokens.revoke(request.id)))
