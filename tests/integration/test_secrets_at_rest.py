"""Secrets sealed at rest, over real brokers on real SQLite files: nothing secret is in the
database file in clear, a wrong or lost key stops the start, clear secrets of an older
database are sealed when it opens, and a key rotation keeps deliveries verifiable."""

from __future__ import annotations

import base64
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import standardwebhooks
from google.protobuf.duration_pb2 import Duration

from broker.server import Broker, rotate_secret_key
from broker.storage import sealing
from gateway import signing
from hookwire.v1 import events_pb2 as epb
from hookwire.v1 import sources_pb2 as pb
from hookwire.v1 import subscriptions_pb2 as spb
from hookwire.v1 import tokens_pb2
from tests.support.in_process import GATEWAY_TOKEN, Api, StartBroker, StartGateway, connect
from tests.support.receivers import answer_status
from tests.support.waiting import eventually

FIRST_SECRET = "whsec_" + base64.b64encode(b"first-known-signing-secret-32byt").decode()
SECOND_SECRET = "whsec_" + base64.b64encode(b"second-known-signing-secret-32by").decode()
GITHUB_SECRET = "github-known-webhook-secret-7f3a9c"
OTHER_KEY = base64.b64encode(bytes(range(100, 132))).decode()


async def create_secrets(api: Api) -> dict[str, str]:
    """A subscription rotated from one known secret to another, a GitHub source, a connector
    and an API token; every secret they hold, by what it is."""
    sub = await api.create_subscription(secret=FIRST_SECRET)
    await api.subscriptions.RotateSubscriptionSecret(
        spb.RotateSubscriptionSecretRequest(
            id=sub.id, secret=SECOND_SECRET, overlap=Duration(seconds=3600)
        )
    )
    await api.sources.CreateSource(
        pb.CreateSourceRequest(source=pb.Source(provider="github", secret=GITHUB_SECRET))
    )
    connector = await api.sources.CreateSource(
        pb.CreateSourceRequest(source=pb.Source(provider="connector"))
    )
    token = await api.tokens.CreateToken(
        tokens_pb2.CreateTokenRequest(token=tokens_pb2.Token(role=tokens_pb2.ROLE_READER))
    )
    return {
        "subscription secret": SECOND_SECRET,
        "previous subscription secret": FIRST_SECRET,
        "github secret": GITHUB_SECRET,
        "connector credential": connector.source.ingest_url.rsplit("/", 1)[1],
        "API token secret": token.secret.removeprefix("hwk_").partition("_")[2],
    }


def database_bytes(db: Path) -> bytes:
    return b"".join(p.read_bytes() for p in (db, Path(f"{db}-wal")) if p.exists())


def stored(db: Path, query: str) -> list[tuple[str, ...]]:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(query).fetchall()


async def stop(broker: Broker) -> None:
    await broker.stop(grace=1.0)
    broker.port = 0


async def test_no_secret_is_in_the_database_file_in_clear(
    start_broker: StartBroker, tmp_path: Path
) -> None:
    broker = await start_broker(db_name="clear.db")
    async with connect(broker) as api:
        secrets = await create_secrets(api)
    db = tmp_path / "clear.db"
    while_running = database_bytes(db)
    await stop(broker)
    for raw in (while_running, database_bytes(db)):
        assert b"v1." in raw
        found = [what for what, secret in secrets.items() if secret.encode() in raw]
        assert found == []
    sealed = stored(db, "SELECT secret, previous_secret FROM subscriptions")
    assert [sealing.is_sealed(value) for value in sealed[0]] == [True, True]


async def test_a_wrong_key_stops_the_start_with_a_clear_error(
    start_broker: StartBroker,
) -> None:
    broker = await start_broker(db_name="keyed.db")
    async with connect(broker) as api:
        await create_secrets(api)
    await stop(broker)
    with pytest.raises(sealing.SealingError) as caught:
        await start_broker(db_name="keyed.db", secret_key=OTHER_KEY)
    assert str(caught.value) == "the secret key does not open this database's secrets"


async def test_a_lost_key_file_stops_the_start_and_no_new_key_is_made(
    start_broker: StartBroker, tmp_path: Path
) -> None:
    broker = await start_broker(db_name="filed.db", secret_key="")
    key_file = tmp_path / "filed.db.secret-key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    async with connect(broker) as api:
        await create_secrets(api)
    await stop(broker)
    key_file.unlink()
    with pytest.raises(sealing.SealingError, match="does not open this database's secrets"):
        await start_broker(db_name="filed.db", secret_key="")
    assert not key_file.exists()


async def test_clear_secrets_of_an_older_database_are_sealed_when_it_opens_and_still_work(
    start_broker: StartBroker, start_gateway: StartGateway, start_receiver, tmp_path: Path
) -> None:
    receiver = await start_receiver(answer_status(200))
    broker = await start_broker(db_name="older.db")
    async with connect(broker) as api:
        await api.create_subscription(secret=FIRST_SECRET)
        github = await api.sources.CreateSource(
            pb.CreateSourceRequest(source=pb.Source(provider="github", secret=GITHUB_SECRET))
        )
        connector = await api.sources.CreateSource(
            pb.CreateSourceRequest(source=pb.Source(provider="connector"))
        )
    await stop(broker)
    token = connector.source.ingest_url.rsplit("/", 1)[1]
    db = tmp_path / "older.db"
    with sqlite3.connect(db) as conn:  # as a database from before sealing holds them
        conn.execute("UPDATE subscriptions SET secret = ?, url = ?", (FIRST_SECRET, receiver.url))
        conn.execute("UPDATE sources SET secret = ? WHERE provider = 'github'", (GITHUB_SECRET,))
        conn.execute("UPDATE sources SET secret = ? WHERE provider = 'connector'", (token,))
    conn.close()

    broker = await start_broker(db_name="older.db")
    rows = stored(db, "SELECT secret FROM subscriptions UNION ALL SELECT secret FROM sources")
    assert len(rows) == 3 and all(sealing.is_sealed(value) for (value,) in rows)
    async with connect(broker, GATEWAY_TOKEN) as gateway_api:
        for source, expected in (
            (github.source.id, GITHUB_SECRET),
            (connector.source.id, sealing.hash_connector_token(token)),
        ):
            resolve = pb.ResolveSourceRequest(id=source)
            resolved = await gateway_api.sources.ResolveSource(resolve)
            assert list(resolved.secrets) == [expected]
    await stop(broker)
    broker = await start_broker(db_name="older.db")  # sealing again changes nothing
    assert broker.store.resealed_at_open == 0  # type: ignore[attr-defined]

    await start_gateway(broker)
    async with connect(broker) as api:
        await api.events.PublishEvent(epb.PublishEventRequest(type="a.b", data=b"{}"))
    await eventually(lambda: len(receiver.hits) == 1)
    hit = receiver.hits[0]
    signing.verify([FIRST_SECRET], hit.headers, hit.body, now=int(time.time()))


def assert_official_verification(secret: str, hit: Any) -> None:
    """The webhook verifies with the official Standard Webhooks library, not only ours."""
    payload = standardwebhooks.Webhook(secret).verify(hit.body, dict(hit.headers))
    assert payload["type"] == "a.b"


async def test_rotating_the_key_while_the_broker_runs_keeps_deliveries_verifiable(
    start_broker: StartBroker, start_gateway: StartGateway, start_receiver, tmp_path: Path
) -> None:
    receiver = await start_receiver(answer_status(200))
    broker = await start_broker(db_name="rotated.db", secret_key="")
    await start_gateway(broker)
    db = tmp_path / "rotated.db"
    async with connect(broker) as api:
        sub = await api.create_subscription(url=receiver.url, secret=FIRST_SECRET)
        await api.sources.CreateSource(
            pb.CreateSourceRequest(source=pb.Source(provider="github", secret=GITHUB_SECRET))
        )
        [(before,)] = stored(db, "SELECT secret FROM subscriptions")
        await api.events.PublishEvent(epb.PublishEventRequest(type="a.b", data=b'{"n":1}'))
        await eventually(lambda: len(receiver.hits) == 1)
        assert_official_verification(FIRST_SECRET, receiver.hits[0])

        key_id, resealed = await rotate_secret_key(f"sqlite:///{db}")

        assert resealed == 2
        keys = sealing.read_key_file(f"{db}.secret-key")
        assert len(keys) == 2
        assert sealing.key_id(keys[0]) == key_id != sealing.sealed_key_id(before)
        rows = stored(db, "SELECT secret FROM subscriptions UNION ALL SELECT secret FROM sources")
        assert {sealing.sealed_key_id(value) for (value,) in rows} == {key_id}

        await api.events.PublishEvent(epb.PublishEventRequest(type="a.b", data=b'{"n":2}'))
        await eventually(lambda: len(receiver.hits) == 2)
        assert_official_verification(FIRST_SECRET, receiver.hits[1])
        # The running broker seals what it writes next under the new key.
        await api.subscriptions.RotateSubscriptionSecret(
            spb.RotateSubscriptionSecretRequest(id=sub.id, secret=SECOND_SECRET)
        )
    rows = stored(db, "SELECT secret, previous_secret FROM subscriptions")
    assert {sealing.sealed_key_id(value) for value in rows[0]} == {key_id}
