"""`hookwire publish|events|subscriptions|deliveries|attempts`: thin wrappers over the stubs.

Each command is one call to the broker's gRPC API, its flags the request's fields.
"""

from __future__ import annotations

import argparse
import sys

import grpc
from google.protobuf.duration_pb2 import Duration
from google.protobuf.field_mask_pb2 import FieldMask

from hookwire.client import add_paging, pairs, print_message, rpc_command
from hookwire.durations import parse_durations
from hookwire.v1 import (
    deliveries_pb2,
    deliveries_pb2_grpc,
    events_pb2,
    events_pb2_grpc,
    subscriptions_pb2,
    subscriptions_pb2_grpc,
)


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    _add_event_parsers(commands)
    _add_subscription_parsers(commands)
    _add_delivery_parsers(commands)


# -- events ---------------------------------------------------------------------------------


def _add_event_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    publish = commands.add_parser("publish", help="publish an event")
    publish.add_argument("--type", required=True)
    publish.add_argument("--data", default="", help="payload, or - for stdin")
    publish.add_argument("--content-type", default="")
    publish.add_argument("--attribute", action="append", metavar="KEY=VALUE")
    publish.add_argument("--idempotency-key", default="")
    publish.set_defaults(handler=rpc_command(_publish))

    events = commands.add_parser("events").add_subparsers(dest="action", required=True)
    get = events.add_parser("get")
    get.add_argument("id")
    get.set_defaults(handler=rpc_command(_get_event))
    listing = events.add_parser("list")
    add_paging(listing)
    listing.add_argument("--type", default="")
    listing.set_defaults(handler=rpc_command(_list_events))


def _publish(args: argparse.Namespace, channel: grpc.Channel) -> None:
    data = sys.stdin.buffer.read() if args.data == "-" else args.data.encode()
    request = events_pb2.PublishEventRequest(
        type=args.type, data=data, content_type=args.content_type,
        attributes=pairs(args.attribute, "--attribute"), idempotency_key=args.idempotency_key,
    )  # fmt: skip
    stub = events_pb2_grpc.EventServiceStub(channel)
    print_message(stub.PublishEvent(request))


def _get_event(args: argparse.Namespace, channel: grpc.Channel) -> None:
    request = events_pb2.GetEventRequest(id=args.id)
    stub = events_pb2_grpc.EventServiceStub(channel)
    print_message(stub.GetEvent(request))


def _list_events(args: argparse.Namespace, channel: grpc.Channel) -> None:
    request = events_pb2.ListEventsRequest(
        page_size=args.page_size, page_token=args.page_token, type=args.type
    )
    stub = events_pb2_grpc.EventServiceStub(channel)
    print_message(stub.ListEvents(request))


# -- subscriptions --------------------------------------------------------------------------


def _add_subscription_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    subs = commands.add_parser("subscriptions").add_subparsers(dest="action", required=True)
    create = subs.add_parser("create")
    create.add_argument("--url", required=True)
    create.add_argument("--event-type", action="append", required=True, metavar="PATTERN")
    create.add_argument("--header", action="append", metavar="KEY=VALUE")
    create.add_argument("--property", action="append", metavar="KEY=VALUE")
    create.add_argument("--client-state", default="")
    create.add_argument("--description", default="")
    create.add_argument("--secret", default="")
    create.add_argument("--retry-schedule", default=None, help="e.g. 1s,10s,1m")
    create.add_argument("--payload-mode", default="full", choices=["full", "thin"])
    create.add_argument(
        "--verification", default="echo_token",
        choices=["echo_token", "websub_challenge", "cloudevents_options", "none"],
    )  # fmt: skip
    create.set_defaults(handler=rpc_command(_create_subscription))
    get = subs.add_parser("get")
    get.add_argument("id")
    get.set_defaults(handler=rpc_command(_get_subscription))
    listing = subs.add_parser("list")
    add_paging(listing)
    listing.set_defaults(handler=rpc_command(_list_subscriptions))
    update = subs.add_parser("update")
    update.add_argument("id")
    update.add_argument("--url")
    update.add_argument("--event-type", action="append", metavar="PATTERN")
    update.add_argument("--description")
    update.set_defaults(handler=rpc_command(_update_subscription))
    delete = subs.add_parser("delete")
    delete.add_argument("id")
    delete.set_defaults(handler=rpc_command(_delete_subscription))


def _create_subscription(args: argparse.Namespace, channel: grpc.Channel) -> None:
    verification = subscriptions_pb2.VerificationMode.Value(
        f"VERIFICATION_MODE_{args.verification.upper()}"
    )
    payload = subscriptions_pb2.PayloadMode.Value(f"PAYLOAD_MODE_{args.payload_mode.upper()}")
    subscription = subscriptions_pb2.Subscription(
        url=args.url, event_types=args.event_type, headers=pairs(args.header, "--header"),
        properties=pairs(args.property, "--property"), client_state=args.client_state,
        description=args.description, verification=verification, payload_mode=payload,
        retry_schedule=_retry_schedule(args.retry_schedule), secret=args.secret,
    )  # fmt: skip
    request = subscriptions_pb2.CreateSubscriptionRequest(subscription=subscription)
    stub = subscriptions_pb2_grpc.SubscriptionServiceStub(channel)
    print_message(stub.CreateSubscription(request))


def _retry_schedule(text: str | None) -> list[Duration]:
    """`--retry-schedule 1s,10s,1m` as Durations; none leaves the server's schedule."""
    try:
        delays = parse_durations(text or "")
    except ValueError as exc:
        raise SystemExit(f"hookwire: --retry-schedule: {exc}") from None
    schedule = []
    for seconds in delays:
        delay = Duration()
        delay.FromNanoseconds(round(seconds * 1e9))
        schedule.append(delay)
    return schedule


def _get_subscription(args: argparse.Namespace, channel: grpc.Channel) -> None:
    request = subscriptions_pb2.GetSubscriptionRequest(id=args.id)
    stub = subscriptions_pb2_grpc.SubscriptionServiceStub(channel)
    print_message(stub.GetSubscription(request))


def _list_subscriptions(args: argparse.Namespace, channel: grpc.Channel) -> None:
    request = subscriptions_pb2.ListSubscriptionsRequest(
        page_size=args.page_size, page_token=args.page_token
    )
    stub = subscriptions_pb2_grpc.SubscriptionServiceStub(channel)
    print_message(stub.ListSubscriptions(request))


def _update_subscription(args: argparse.Namespace, channel: grpc.Channel) -> None:
    """Sends only the flags given, named in the update mask, so the rest stays as it is."""
    change = subscriptions_pb2.Subscription(id=args.id)
    paths: list[str] = []
    if args.url:
        change.url = args.url
        paths.append("url")
    if args.event_type:
        change.event_types.extend(args.event_type)
        paths.append("event_types")
    if args.description is not None:
        change.description = args.description
        paths.append("description")
    request = subscriptions_pb2.UpdateSubscriptionRequest(
        subscription=change, update_mask=FieldMask(paths=paths)
    )
    stub = subscriptions_pb2_grpc.SubscriptionServiceStub(channel)
    print_message(stub.UpdateSubscription(request))


def _delete_subscription(args: argparse.Namespace, channel: grpc.Channel) -> None:
    request = subscriptions_pb2.DeleteSubscriptionRequest(id=args.id)
    stub = subscriptions_pb2_grpc.SubscriptionServiceStub(channel)
    stub.DeleteSubscription(request)
    print(f"deleted {args.id}")


# -- deliveries and their attempts ----------------------------------------------------------


def _add_delivery_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    deliveries = commands.add_parser("deliveries").add_subparsers(dest="action", required=True)
    listing = deliveries.add_parser("list")
    add_paging(listing)
    listing.add_argument("--subscription", default="")
    listing.add_argument("--event", default="")
    listing.add_argument(
        "--state", default="", choices=["", "pending", "delivered", "exhausted", "failed"]
    )
    listing.set_defaults(handler=rpc_command(_list_deliveries))
    retry = deliveries.add_parser("retry")
    retry.add_argument("id")
    retry.set_defaults(handler=rpc_command(_retry_delivery))

    attempts = commands.add_parser("attempts").add_subparsers(dest="action", required=True)
    attempt_listing = attempts.add_parser("list")
    attempt_listing.add_argument("delivery_id")
    add_paging(attempt_listing)
    attempt_listing.set_defaults(handler=rpc_command(_list_attempts))


def _list_deliveries(args: argparse.Namespace, channel: grpc.Channel) -> None:
    state = deliveries_pb2.DeliveryState.Value(
        f"DELIVERY_STATE_{(args.state or 'unspecified').upper()}"
    )
    request = deliveries_pb2.ListDeliveriesRequest(
        page_size=args.page_size, page_token=args.page_token,
        subscription_id=args.subscription, event_id=args.event, state=state,
    )  # fmt: skip
    stub = deliveries_pb2_grpc.DeliveryServiceStub(channel)
    print_message(stub.ListDeliveries(request))


def _retry_delivery(args: argparse.Namespace, channel: grpc.Channel) -> None:
    request = deliveries_pb2.RetryDeliveryRequest(id=args.id)
    stub = deliveries_pb2_grpc.DeliveryServiceStub(channel)
    print_message(stub.RetryDelivery(request))


def _list_attempts(args: argparse.Namespace, channel: grpc.Channel) -> None:
    request = deliveries_pb2.ListDeliveryAttemptsRequest(
        delivery_id=args.delivery_id, page_size=args.page_size, page_token=args.page_token
    )
    stub = deliveries_pb2_grpc.DeliveryServiceStub(channel)
    print_message(stub.ListDeliveryAttempts(request))
