"""Inbound webhooks as processes: `hookwire serve`'s gateway receives a signed GitHub
delivery and a connector card, the broker publishes them, and a subscriber of the
source's prefix gets them as signed webhooks; a deleted connector answers 410."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Callable

import httpx

from hookwire.v1 import sources_pb2 as pb
from tests.support.processes import Hookwire
from tests.support.receivers import ThreadedReceiver
from tests.support.waiting import eventually_sync

Serve = Callable[..., Hookwire]
SECRET = "a secret shared with GitHub"


def post(url: str, body: bytes, **headers: str) -> httpx.Response:
    with httpx.Client(trust_env=False, timeout=10) as client:
        return client.post(url, content=body, headers=headers)


def test_provider_and_connector_posts_reach_subscribers(
    hookwire: Serve, receiver: ThreadedReceiver
) -> None:
    hw = hookwire()
    sources = hw.sources
    github = sources.CreateSource(
        pb.CreateSourceRequest(source=pb.Source(provider="github", secret=SECRET))
    ).source
    connector = sources.CreateSource(
        pb.CreateSourceRequest(source=pb.Source(provider="connector", event_type_prefix="ops"))
    ).source
    assert github.ingest_url == f"http://127.0.0.1:{hw.http_port}/in/{github.id}"
    sub = hw.create_subscription(receiver.url("/inbound"), ["github.*", "ops.*"])
    receiver.secrets["/inbound"] = sub.secret

    body = json.dumps({"action": "opened", "number": 7}).encode()
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    delivery = str(uuid.uuid4())
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": delivery,
        "X-Hub-Signature-256": f"sha256={signature}",
    }
    first = post(github.ingest_url, body, **headers)
    assert first.status_code == 200 and first.json()["duplicate"] is False
    again = post(github.ingest_url, body, **headers)  # GitHub redelivers
    assert again.status_code == 200 and again.json()["duplicate"] is True
    forged = post(github.ingest_url, body + b" ", **headers)
    assert forged.status_code == 401

    card = {"@type": "MessageCard", "summary": "deploy finished", "text": "v1.2.3 is live"}
    answer = post(
        connector.ingest_url, json.dumps(card).encode(), **{"Content-Type": "application/json"}
    )
    assert (answer.status_code, answer.text) == (200, "1")

    def arrived() -> dict[str, dict[str, object]]:
        got = {r.json()["type"]: r.json() for r in receiver.answered("/inbound", 200)}
        assert set(got) == {"github.pull_request.opened", "ops.message"}, got
        return got

    webhooks = eventually_sync(arrived, what="the inbound events as webhooks")
    assert all(r.signature_valid for r in receiver.answered("/inbound", 200))
    assert len(receiver.answered("/inbound", 200)) == 2  # the redelivery was not published
    assert webhooks["github.pull_request.opened"]["data"] == {"action": "opened", "number": 7}
    assert webhooks["ops.message"]["data"] == card

    sources.DeleteSource(pb.DeleteSourceRequest(id=connector.id))
    gone = post(
        connector.ingest_url, json.dumps(card).encode(), **{"Content-Type": "application/json"}
    )
    assert gone.status_code == 410
