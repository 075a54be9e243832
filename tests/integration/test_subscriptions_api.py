"""hookwire.v1.SubscriptionService (verification NONE) over a real gRPC server and SQLite."""

from __future__ import annotations

import base64

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.timestamp_pb2 import Timestamp

from broker.clock import ManualClock
from hookwire.v1 import deliveries_pb2, events_pb2
from hookwire.v1 import subscriptions_pb2 as spb
from tests.support.in_process import Api, expect_rpc_error

INVALID = grpc.StatusCode.INVALID_ARGUMENT
DAY = 86400
GIVEN_SECRET = "whsec_" + base64.b64encode(bytes(range(32))).decode()


def draft(**fields: object) -> spb.Subscription:
    values: dict[str, object] = {
        "url": "https://receiver.example.com/hooks",
        "event_types": ["invoice.*"],
        "verification": spb.VERIFICATION_MODE_NONE,
    }
    values.update(fields)
    return spb.Subscription(**values)  # type: ignore[arg-type]


def create(api: Api, **fields: object):
    return api.subscriptions.CreateSubscription(
        spb.CreateSubscriptionRequest(subscription=draft(**fields))
    )


async def all_subscriptions(api: Api) -> list[spb.Subscription]:
    found: list[spb.Subscription] = []
    token = ""
    while True:
        page = await api.subscriptions.ListSubscriptions(
            spb.ListSubscriptionsRequest(page_token=token)
        )
        found.extend(page.subscriptions)
        token = page.next_page_token
        if not token:
            return found


# -- Create / Get / List ------------------------------------------------------------------


async def test_create_returns_active_subscription_with_generated_secret(
    api: Api, clock: ManualClock
) -> None:
    now = int(clock.now())
    sub = (
        await create(
            api,
            event_types=["invoice.paid", "order.*"],
            headers={"X-Tenant": "acme"},
            properties={"region": "eu"},
            client_state="opaque-123",
            description="billing hooks",
        )
    ).subscription

    assert sub.id.startswith("sub_")
    assert sub.state == spb.SUBSCRIPTION_STATE_ACTIVE
    assert sub.secret.startswith("whsec_")
    assert len(base64.b64decode(sub.secret.removeprefix("whsec_"), validate=True)) >= 24
    assert sub.expire_time == Timestamp(seconds=now + 180 * DAY)
    assert sub.create_time == Timestamp(seconds=now)
    assert sorted(sub.event_types) == ["invoice.paid", "order.*"]
    assert dict(sub.headers) == {"X-Tenant": ""}  # header values are write-only
    assert dict(sub.properties) == {"region": "eu"}
    assert sub.client_state == "opaque-123"
    assert sub.description == "billing hooks"
    assert sub.verification == spb.VERIFICATION_MODE_NONE
    assert sub.payload_mode == spb.PAYLOAD_MODE_FULL


async def test_secrets_differ_between_subscriptions(api: Api) -> None:
    one = (await create(api)).subscription
    two = (await create(api)).subscription
    assert one.secret != two.secret


async def test_supplied_secret_and_expire_time_are_kept(api: Api, clock: ManualClock) -> None:
    expire = Timestamp(seconds=int(clock.now()) + 7 * DAY)
    sub = (await create(api, secret=GIVEN_SECRET, expire_time=expire)).subscription
    assert sub.secret == GIVEN_SECRET
    assert sub.expire_time == expire


async def test_get_and_list_never_include_the_secret(api: Api) -> None:
    created = (await create(api, secret=GIVEN_SECRET)).subscription

    got = await api.subscriptions.GetSubscription(spb.GetSubscriptionRequest(id=created.id))
    assert got.subscription.secret == ""
    assert got.subscription.id == created.id
    expected = spb.Subscription()
    expected.CopyFrom(created)
    expected.secret = ""
    assert got.subscription == expected

    listed = await all_subscriptions(api)
    assert [s.id for s in listed] == [created.id]
    assert all(s.secret == "" for s in listed)


async def test_get_unknown_subscription_is_not_found(api: Api) -> None:
    await expect_rpc_error(
        api.subscriptions.GetSubscription(spb.GetSubscriptionRequest(id="sub_nope")),
        grpc.StatusCode.NOT_FOUND,
    )


# -- Create validation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"url": "ftp://x"}, "subscription.url"),
        ({"url": "https://user:pw@example.com/"}, "subscription.url"),
        ({"url": ""}, "subscription.url"),
        ({"url": "https://example.com/#frag"}, "subscription.url"),
        ({"event_types": []}, "subscription.event_types"),
        ({"event_types": ["a.*.b"]}, "subscription.event_types"),
        ({"event_types": ["**"]}, "subscription.event_types"),
        ({"event_types": ["ok.type", "bad type"]}, "subscription.event_types"),
        ({"headers": {"webhook-signature": "v1,forged"}}, "subscription.headers"),
        ({"headers": {"Content-Type": "text/plain"}}, "subscription.headers"),
        ({"properties": {"data": "shadowed"}}, "subscription.properties"),
        ({"secret": "not-a-secret"}, "subscription.secret"),
        ({"secret": "whsec_***not base64***"}, "subscription.secret"),
        ({"secret": "whsec_" + base64.b64encode(b"short").decode()}, "subscription.secret"),
        ({"retry_schedule": [Duration(seconds=8 * DAY)]}, "subscription.retry_schedule"),
    ],
)
async def test_create_rejects_bad_field(api: Api, fields: dict[str, object], field: str) -> None:
    await expect_rpc_error(create(api, **fields), INVALID, field)
    assert await all_subscriptions(api) == []


async def test_create_rejects_expire_time_beyond_180_days(api: Api, clock: ManualClock) -> None:
    now = int(clock.now())
    too_late = Timestamp(seconds=now + 181 * DAY)
    await expect_rpc_error(create(api, expire_time=too_late), INVALID, "subscription.expire_time")
    past = Timestamp(seconds=now - 1)
    await expect_rpc_error(create(api, expire_time=past), INVALID, "subscription.expire_time")
    assert await all_subscriptions(api) == []
    # Exactly the maximum is fine.
    longest = Timestamp(seconds=now + 180 * DAY)
    assert (await create(api, expire_time=longest)).subscription.expire_time == longest


async def test_create_without_subscription_is_invalid(api: Api) -> None:
    await expect_rpc_error(
        api.subscriptions.CreateSubscription(spb.CreateSubscriptionRequest()),
        INVALID,
        "subscription",
    )


# -- Update ---------------------------------------------------------------------------------


async def test_update_changes_only_the_masked_fields(api: Api, clock: ManualClock) -> None:
    created = (
        await create(
            api,
            event_types=["invoice.*"],
            headers={"X-Tenant": "acme"},
            properties={"region": "eu"},
            client_state="state-1",
            description="before",
            secret=GIVEN_SECRET,
        )
    ).subscription
    clock.advance(60)

    change = spb.Subscription(
        id=created.id,
        url="https://new.example.com/webhooks",
        description="after",
        event_types=["order.*"],  # not in the mask: must be ignored
        client_state="state-2",  # not in the mask: must be ignored
    )
    updated = (
        await api.subscriptions.UpdateSubscription(
            spb.UpdateSubscriptionRequest(
                subscription=change, update_mask=FieldMask(paths=["url", "description"])
            )
        )
    ).subscription

    assert updated.url == "https://new.example.com/webhooks"
    assert updated.description == "after"
    assert updated.secret == ""
    assert updated.update_time == Timestamp(seconds=int(clock.now()))

    got = (
        await api.subscriptions.GetSubscription(spb.GetSubscriptionRequest(id=created.id))
    ).subscription
    assert got == updated
    unchanged = spb.Subscription()
    unchanged.CopyFrom(created)
    unchanged.secret = ""
    unchanged.url = "https://new.example.com/webhooks"
    unchanged.description = "after"
    unchanged.update_time.CopyFrom(updated.update_time)
    assert got == unchanged


async def test_update_event_types_changes_what_is_queued(api: Api) -> None:
    created = (await create(api, event_types=["invoice.*"])).subscription
    await api.subscriptions.UpdateSubscription(
        spb.UpdateSubscriptionRequest(
            subscription=spb.Subscription(id=created.id, event_types=["order.*"]),
            update_mask=FieldMask(paths=["event_types"]),
        )
    )
    await api.events.PublishEvent(events_pb2.PublishEventRequest(type="invoice.paid", data=b"{}"))
    order = await api.events.PublishEvent(
        events_pb2.PublishEventRequest(type="order.created", data=b"{}")
    )
    deliveries = await api.deliveries_of(subscription_id=created.id)
    assert [d.event_id for d in deliveries] == [order.event.id]


@pytest.mark.parametrize("path", ["nonsense", "secret", "state", "id"])
async def test_update_with_unknown_path_is_invalid(api: Api, path: str) -> None:
    created = (await create(api, description="kept")).subscription
    await expect_rpc_error(
        api.subscriptions.UpdateSubscription(
            spb.UpdateSubscriptionRequest(
                subscription=spb.Subscription(id=created.id, description="x"),
                update_mask=FieldMask(paths=["description", path]),
            )
        ),
        INVALID,
        "update_mask",
    )
    got = (
        await api.subscriptions.GetSubscription(spb.GetSubscriptionRequest(id=created.id))
    ).subscription
    assert got.description == "kept"


async def test_update_validates_new_values(api: Api) -> None:
    created = (await create(api)).subscription
    await expect_rpc_error(
        api.subscriptions.UpdateSubscription(
            spb.UpdateSubscriptionRequest(
                subscription=spb.Subscription(id=created.id, url="ftp://x"),
                update_mask=FieldMask(paths=["url"]),
            )
        ),
        INVALID,
        "subscription.url",
    )


async def test_update_unknown_subscription_is_not_found(api: Api) -> None:
    await expect_rpc_error(
        api.subscriptions.UpdateSubscription(
            spb.UpdateSubscriptionRequest(
                subscription=spb.Subscription(id="sub_nope", description="x"),
                update_mask=FieldMask(paths=["description"]),
            )
        ),
        grpc.StatusCode.NOT_FOUND,
    )


async def test_update_without_id_is_invalid(api: Api) -> None:
    await expect_rpc_error(
        api.subscriptions.UpdateSubscription(
            spb.UpdateSubscriptionRequest(
                subscription=spb.Subscription(description="x"),
                update_mask=FieldMask(paths=["description"]),
            )
        ),
        INVALID,
        "subscription.id",
    )


# -- Delete ---------------------------------------------------------------------------------


async def test_delete_then_get_is_not_found(api: Api) -> None:
    keep = (await create(api)).subscription
    gone = (await create(api)).subscription

    await api.subscriptions.DeleteSubscription(spb.DeleteSubscriptionRequest(id=gone.id))

    await expect_rpc_error(
        api.subscriptions.GetSubscription(spb.GetSubscriptionRequest(id=gone.id)),
        grpc.StatusCode.NOT_FOUND,
    )
    assert [s.id for s in await all_subscriptions(api)] == [keep.id]


async def test_delete_cancels_pending_deliveries(api: Api) -> None:
    sub = (await create(api, event_types=["*"])).subscription
    await api.events.PublishEvent(events_pb2.PublishEventRequest(type="a.b", data=b"{}"))
    await api.subscriptions.DeleteSubscription(spb.DeleteSubscriptionRequest(id=sub.id))

    [delivery] = await api.deliveries_of(subscription_id=sub.id)
    assert delivery.state == deliveries_pb2.DELIVERY_STATE_FAILED
    assert "deleted" in delivery.last_error
    # And nothing new is queued for it.
    await api.events.PublishEvent(events_pb2.PublishEventRequest(type="a.b", data=b"{}"))
    assert len(await api.deliveries_of(subscription_id=sub.id)) == 1


async def test_delete_unknown_is_not_found(api: Api) -> None:
    await expect_rpc_error(
        api.subscriptions.DeleteSubscription(spb.DeleteSubscriptionRequest(id="sub_nope")),
        grpc.StatusCode.NOT_FOUND,
    )
    created = (await create(api)).subscription
    await api.subscriptions.DeleteSubscription(spb.DeleteSubscriptionRequest(id=created.id))
    await expect_rpc_error(
        api.subscriptions.DeleteSubscription(spb.DeleteSubscriptionRequest(id=created.id)),
        grpc.StatusCode.NOT_FOUND,
    )


# -- List paging -----------------------------------------------------------------------------


async def test_list_pages_through_250_subscriptions(api: Api) -> None:
    created = [(await create(api)).subscription.id for _ in range(250)]

    pages: list[list[str]] = []
    tokens: list[str] = []
    token = ""
    while True:
        page = await api.subscriptions.ListSubscriptions(
            spb.ListSubscriptionsRequest(page_size=100, page_token=token)
        )
        pages.append([s.id for s in page.subscriptions])
        assert all(s.secret == "" for s in page.subscriptions)
        token = page.next_page_token
        tokens.append(token)
        if not token:
            break

    assert [len(p) for p in pages] == [100, 100, 50]
    seen = [sub_id for page in pages for sub_id in page]
    assert len(set(seen)) == len(seen) == 250
    assert seen == created  # oldest first
    assert tokens[-1] == "" and all(tokens[:-1])


async def test_list_filters_by_state_and_validates_paging(api: Api) -> None:
    created = (await create(api)).subscription
    active = await api.subscriptions.ListSubscriptions(
        spb.ListSubscriptionsRequest(state=spb.SUBSCRIPTION_STATE_ACTIVE)
    )
    assert [s.id for s in active.subscriptions] == [created.id]
    disabled = await api.subscriptions.ListSubscriptions(
        spb.ListSubscriptionsRequest(state=spb.SUBSCRIPTION_STATE_DISABLED)
    )
    assert list(disabled.subscriptions) == []

    await expect_rpc_error(
        api.subscriptions.ListSubscriptions(spb.ListSubscriptionsRequest(page_size=-5)),
        INVALID,
        "page_size",
    )
    await expect_rpc_error(
        api.subscriptions.ListSubscriptions(spb.ListSubscriptionsRequest(page_token="%%%")),
        INVALID,
        "page_token",
    )
