"""The `hookwire` client commands: thin wrappers over the generated gRPC stubs."""

from __future__ import annotations

import argparse
import sys
from typing import Any

import grpc
from google.protobuf import json_format
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.message import Message

from broker.config import parse_schedule
from hookwire.v1 import deliveries_pb2 as dpb
from hookwire.v1 import deliveries_pb2_grpc as drpc
from hookwire.v1 import events_pb2 as epb
from hookwire.v1 import events_pb2_grpc as erpc
from hookwire.v1 import subscriptions_pb2 as spb
from hookwire.v1 import subscriptions_pb2_grpc as srpc


def _pairs(values: list[str] | None, what: str) -> dict[str, str]:
    result = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"hookwire: {what} must be KEY=VALUE, got {item!r}")
        result[key] = value
    return result


def _print(message: Message) -> None:
    print(json_format.MessageToJson(message, preserving_proto_field_name=True, indent=2))


def _schedule(text: str | None) -> list[Any]:
    from broker.proto_convert import duration

    return [duration(s) for s in parse_schedule(text or "")]


def run_client_command(args: argparse.Namespace) -> int:
    channel = grpc.insecure_channel(args.address)
    events = erpc.EventServiceStub(channel)
    subs = srpc.SubscriptionServiceStub(channel)
    deliveries = drpc.DeliveryServiceStub(channel)
    try:
        if args.command == "sources":
            from hookwire.source_commands import run_source_command

            run_source_command(args, channel)
        else:
            _dispatch(args, events, subs, deliveries)
    except grpc.RpcError as exc:
        print(f"hookwire: {exc.code().name}: {exc.details()}", file=sys.stderr)
        return 1
    finally:
        channel.close()
    return 0


def _dispatch(
    args: argparse.Namespace,
    events: erpc.EventServiceStub,
    subs: srpc.SubscriptionServiceStub,
    deliveries: drpc.DeliveryServiceStub,
) -> None:
    command = (args.command, getattr(args, "action", None))
    if command == ("publish", None):
        data = sys.stdin.buffer.read() if args.data == "-" else args.data.encode()
        _print(events.PublishEvent(epb.PublishEventRequest(
            type=args.type, data=data, content_type=args.content_type,
            attributes=_pairs(args.attribute, "--attribute"), idempotency_key=args.idempotency_key,
        )))  # fmt: skip
    elif command == ("events", "get"):
        _print(events.GetEvent(epb.GetEventRequest(id=args.id)))
    elif command == ("events", "list"):
        _print(events.ListEvents(epb.ListEventsRequest(
            page_size=args.page_size, page_token=args.page_token, type=args.type)))  # fmt: skip
    elif command == ("subscriptions", "create"):
        verification = spb.VerificationMode.Value(f"VERIFICATION_MODE_{args.verification.upper()}")
        payload = spb.PayloadMode.Value(f"PAYLOAD_MODE_{args.payload_mode.upper()}")
        _print(subs.CreateSubscription(spb.CreateSubscriptionRequest(subscription=spb.Subscription(
            url=args.url, event_types=args.event_type, headers=_pairs(args.header, "--header"),
            properties=_pairs(args.property, "--property"), client_state=args.client_state,
            description=args.description, verification=verification, payload_mode=payload,
            retry_schedule=_schedule(args.retry_schedule), secret=args.secret,
        ))))  # fmt: skip
    elif command == ("subscriptions", "get"):
        _print(subs.GetSubscription(spb.GetSubscriptionRequest(id=args.id)))
    elif command == ("subscriptions", "list"):
        _print(subs.ListSubscriptions(spb.ListSubscriptionsRequest(
            page_size=args.page_size, page_token=args.page_token)))  # fmt: skip
    elif command == ("subscriptions", "update"):
        change = spb.Subscription(id=args.id)
        paths: list[str] = []
        if args.url:
            change.url, paths = args.url, [*paths, "url"]
        if args.event_type:
            change.event_types.extend(args.event_type)
            paths.append("event_types")
        if args.description is not None:
            change.description, paths = args.description, [*paths, "description"]
        _print(subs.UpdateSubscription(spb.UpdateSubscriptionRequest(
            subscription=change, update_mask=FieldMask(paths=paths))))  # fmt: skip
    elif command == ("subscriptions", "delete"):
        subs.DeleteSubscription(spb.DeleteSubscriptionRequest(id=args.id))
        print(f"deleted {args.id}")
    elif command == ("deliveries", "list"):
        state = dpb.DeliveryState.Value(f"DELIVERY_STATE_{(args.state or 'unspecified').upper()}")
        _print(deliveries.ListDeliveries(dpb.ListDeliveriesRequest(
            page_size=args.page_size, page_token=args.page_token,
            subscription_id=args.subscription, event_id=args.event, state=state,
        )))  # fmt: skip
    elif command == ("deliveries", "retry"):
        _print(deliveries.RetryDelivery(dpb.RetryDeliveryRequest(id=args.id)))
    elif command == ("attempts", "list"):
        request = dpb.ListDeliveryAttemptsRequest(
            delivery_id=args.delivery_id, page_size=args.page_size, page_token=args.page_token
        )
        _print(deliveries.ListDeliveryAttempts(request))
