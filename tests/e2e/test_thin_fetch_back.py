"""THIN notifications as processes: the webhook carries no data, only a `data_url` on the
gateway process's HTTP address with a token; the subscriber fetches the data back there."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from hookwire.v1 import deliveries_pb2 as dpb
from hookwire.v1 import subscriptions_pb2 as spb
from tests.support.processes import Hookwire
from tests.support.receivers import Received, ThreadedReceiver
from tests.support.waiting import eventually_sync

Serve = Callable[..., Hookwire]
DATA = b'{ "amount" : 12.50, "currency": "EUR" }'  # as published, spacing and all


def fetch(url: str, **headers: str) -> httpx.Response:
    with httpx.Client(trust_env=False, timeout=10) as client:
        return client.get(url, headers=headers)


def test_thin_webhook_has_a_data_url_that_only_its_token_opens(
    hookwire: Serve, receiver: ThreadedReceiver
) -> None:
    hw = hookwire()
    path = "/thin"
    sub = hw.create_subscription(
        receiver.url(path), ["invoice.*"], payload_mode=spb.PAYLOAD_MODE_THIN
    )
    receiver.secrets[path] = sub.secret
    event = hw.publish("invoice.paid", DATA)
    other = hw.publish("invoice.voided", b'{"secret": "not for that token"}')

    def both() -> dict[str, Received]:
        got = {r.webhook_id: r for r in receiver.answered(path, 200)}
        assert set(got) == {event.id, other.id}, got
        return got

    webhooks = eventually_sync(both, what="two THIN webhooks")
    hit = webhooks[event.id]
    assert hit.signature_valid, hit.signature_error
    body = hit.json()
    assert "data" not in body and b"12.50" not in hit.body
    assert (body["id"], body["type"], body["subscription_id"]) == (event.id, "invoice.paid", sub.id)
    data_url = body["data_url"]
    base, _, query = data_url.partition("?")
    assert base == f"http://127.0.0.1:{hw.http_port}/events/{event.id}", data_url
    assert query.startswith("access_token=")
    token = query.removeprefix("access_token=")

    fetched = fetch(data_url)
    assert (fetched.status_code, fetched.content) == (200, DATA)
    assert fetched.headers["content-type"].startswith("application/json")
    bearer = fetch(base, Authorization=f"Bearer {token}")
    assert (bearer.status_code, bearer.content) == (200, DATA)

    assert fetch(base).status_code == 401  # no token
    assert fetch(f"{base}?access_token={token[:-2]}xx").status_code == 401  # wrong token
    other_token = json.loads(webhooks[other.id].body)["data_url"].partition("access_token=")[2]
    assert other_token and other_token != token
    crossed = fetch(f"{base}?access_token={other_token}")  # a token for another event
    assert crossed.status_code in (401, 404), crossed.status_code
    assert b"12.50" not in crossed.content
    swapped = fetch(f"{base.rsplit('/', 1)[0]}/{other.id}?access_token={token}")
    assert swapped.status_code in (401, 404), swapped.status_code
    assert b"not for that token" not in swapped.content

    eventually_sync(
        lambda: (
            {d.state for d in hw.list_deliveries(subscription_id=sub.id)}
            == {dpb.DELIVERY_STATE_DELIVERED}
        ),
        what="both deliveries DELIVERED",
    )
