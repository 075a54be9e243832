"""`hookwire.v1.SubscriptionService`. Secrets leave only through Create."""

from __future__ import annotations

from typing import Any

import grpc

from broker.errors import InvalidArgument
from broker.grpc import convert
from broker.subscriptions import SubscriptionManager
from hookwire.v1 import subscriptions_pb2 as pb
from hookwire.v1 import subscriptions_pb2_grpc as rpc

Context = grpc.aio.ServicerContext[Any, Any]


class SubscriptionService(rpc.SubscriptionServiceServicer):
    def __init__(self, subscriptions: SubscriptionManager) -> None:
        self._subscriptions = subscriptions

    async def CreateSubscription(
        self, request: pb.CreateSubscriptionRequest, context: Context
    ) -> pb.CreateSubscriptionResponse:
        if not request.HasField("subscription"):
            raise InvalidArgument("subscription", "is required")
        created = await self._subscriptions.create(
            convert.subscription_from_pb(request.subscription)
        )
        return pb.CreateSubscriptionResponse(
            subscription=convert.subscription_pb(created, with_secret=True)
        )

    async def GetSubscription(
        self, request: pb.GetSubscriptionRequest, context: Context
    ) -> pb.GetSubscriptionResponse:
        sub = await self._subscriptions.get(request.id)
        return pb.GetSubscriptionResponse(subscription=convert.subscription_pb(sub))

    async def ListSubscriptions(
        self, request: pb.ListSubscriptionsRequest, context: Context
    ) -> pb.ListSubscriptionsResponse:
        subs, token = await self._subscriptions.list_page(
            request.page_size,
            request.page_token,
            convert.SUBSCRIPTION_STATES.from_wire(request.state, "state"),
        )
        return pb.ListSubscriptionsResponse(
            subscriptions=[convert.subscription_pb(s) for s in subs], next_page_token=token
        )

    async def UpdateSubscription(
        self, request: pb.UpdateSubscriptionRequest, context: Context
    ) -> pb.UpdateSubscriptionResponse:
        if not request.subscription.id:
            raise InvalidArgument("subscription.id", "must name the subscription to update")
        updated = await self._subscriptions.update(
            convert.subscription_from_pb(request.subscription), list(request.update_mask.paths)
        )
        return pb.UpdateSubscriptionResponse(subscription=convert.subscription_pb(updated))

    async def DeleteSubscription(
        self, request: pb.DeleteSubscriptionRequest, context: Context
    ) -> pb.DeleteSubscriptionResponse:
        await self._subscriptions.delete(request.id)
        return pb.DeleteSubscriptionResponse()

    async def RenewSubscription(
        self, request: pb.RenewSubscriptionRequest, context: Context
    ) -> pb.RenewSubscriptionResponse:
        expire = convert.seconds_if_set(request, "expire_time") or 0.0
        sub = await self._subscriptions.renew(request.id, expire)
        return pb.RenewSubscriptionResponse(subscription=convert.subscription_pb(sub))

    async def PauseSubscription(
        self, request: pb.PauseSubscriptionRequest, context: Context
    ) -> pb.PauseSubscriptionResponse:
        sub = await self._subscriptions.pause(request.id)
        return pb.PauseSubscriptionResponse(subscription=convert.subscription_pb(sub))

    async def ResumeSubscription(
        self, request: pb.ResumeSubscriptionRequest, context: Context
    ) -> pb.ResumeSubscriptionResponse:
        sub = await self._subscriptions.resume(request.id)
        return pb.ResumeSubscriptionResponse(subscription=convert.subscription_pb(sub))

    async def RotateSubscriptionSecret(
        self, request: pb.RotateSubscriptionSecretRequest, context: Context
    ) -> pb.RotateSubscriptionSecretResponse:
        overlap = convert.seconds_if_set(request, "overlap")
        sub = await self._subscriptions.rotate_secret(request.id, request.secret, overlap)
        return pb.RotateSubscriptionSecretResponse(
            subscription=convert.subscription_pb(sub, with_secret=True)
        )
