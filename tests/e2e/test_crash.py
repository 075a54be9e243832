"""SIGKILL under publish load: the broker's promises survive crashes at random moments.

A publisher (a few threads in this process) publishes unary and batch events, each with a
unique idempotency key, and records exactly which were acknowledged. Meanwhile the test
SIGKILLs the whole `hookwire serve` process group (then starts serve again on the same
database file and ports), one gateway child (serve restarts it), or both, at random moments
drawn from a printed seed: `HOOKWIRE_CHAOS_SEED` replays a failed run's choices (what is
killed, after how many more acknowledgements; thread timing is the machine's). A publish
that got no answer is retried with the same keys until it is acknowledged; one that was in
fact committed must then come back `duplicate = true`, never as a second event.

`make test` runs a few cycles; `make chaos` runs hundreds (`HOOKWIRE_CHAOS_CYCLES`).
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest

from hookwire.client import BearerToken
from hookwire.v1 import events_pb2, events_pb2_grpc
from tests.support.in_process import ADMIN_TOKEN
from tests.support.ports import free_port
from tests.support.processes import RPC_TIMEOUT, Hookwire
from tests.support.receivers import ThreadedReceiver
from tests.support.waiting import eventually_sync

CYCLES = int(os.environ.get("HOOKWIRE_CHAOS_CYCLES", "3"))
PUBLISHERS = 3
GATEWAYS = 2
PATH = "/crash"
SERVE_ARGS = [
    "--gateways", str(GATEWAYS),
    "--lease-seconds", "2",
    "--retry-schedule", ",".join(["0.2s"] + ["0.5s"] * 30),
]  # fmt: skip
# A publish that got no answer because the broker was killed or not yet back.
IN_DOUBT = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}
# How long a channel waits before reconnecting to a restarted broker; gRPC's default
# backoff grows towards two minutes, longer than a whole `make test` run.
CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 300),
]


def _seed() -> int:
    given = os.environ.get("HOOKWIRE_CHAOS_SEED")
    return int(given) if given else random.SystemRandom().randrange(2**32)


@dataclass(frozen=True)
class Ack:
    """What one acknowledged publish answered for one key."""

    event_id: str
    duplicate: bool


@dataclass
class Ledger:
    """Every key the publishers sent, and what the broker answered for it."""

    sent: set[str] = field(default_factory=set)
    acks: dict[str, list[Ack]] = field(default_factory=dict)
    event_types: dict[str, str] = field(default_factory=dict)
    in_doubt: int = 0  # publishes retried because no answer came
    unary: int = 0
    batches: int = 0
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acked(self) -> int:
        with self.lock:
            return len(self.acks)

    def first_acks(self) -> dict[str, Ack]:
        with self.lock:
            return {key: acks[0] for key, acks in self.acks.items()}


class Publisher:
    """Threads that publish until told to stop, each retrying an unanswered publish with
    the same keys (the same batch) until the broker answers it."""

    def __init__(self, address: str, seed: int, ledger: Ledger) -> None:
        self.ledger = ledger
        self._seed = seed
        self._stopping = threading.Event()
        self._channel = grpc.intercept_channel(
            grpc.insecure_channel(address, options=CHANNEL_OPTIONS), BearerToken(ADMIN_TOKEN)
        )
        self._events = events_pb2_grpc.EventServiceStub(self._channel)
        self._threads = [
            threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(PUBLISHERS)
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def stop(self, within: float) -> bool:
        """Send nothing new; wait for every started publish to be answered (True if all were)."""
        self._stopping.set()
        for thread in self._threads:
            thread.join(within)
        self._channel.close()
        return not any(t.is_alive() for t in self._threads)

    def _run(self, n: int) -> None:
        rng = random.Random(self._seed * 1000 + n)
        sequence = 0
        while not self._stopping.is_set():
            size = 1 if rng.random() < 0.5 else rng.randint(2, 8)
            keys = [f"p{n}-{sequence + i}" for i in range(size)]
            sequence += size
            self._publish_until_answered(keys)

    def _request(self, key: str, event_type: str) -> events_pb2.PublishEventRequest:
        return events_pb2.PublishEventRequest(
            type=event_type, data=json.dumps({"key": key}).encode(), idempotency_key=key
        )

    def _publish_until_answered(self, keys: list[str]) -> None:
        event_type = "crash.unary" if len(keys) == 1 else "crash.batch"
        with self.ledger.lock:
            self.ledger.sent.update(keys)
            self.ledger.event_types.update((key, event_type) for key in keys)
        requests = [self._request(key, event_type) for key in keys]
        while True:
            try:
                if len(keys) == 1:
                    results = [self._events.PublishEvent(requests[0], timeout=3)]
                else:
                    batch = events_pb2.PublishEventsRequest(events=requests)
                    results = list(self._events.PublishEvents(batch, timeout=3).results)
            except grpc.RpcError as exc:
                code = exc.code()  # a failed unary call is also its grpc.Call
                with self.ledger.lock:
                    self.ledger.in_doubt += 1
                    if code not in IN_DOUBT:
                        self.ledger.unexpected.append(f"{keys}: {code}: {exc.details()}")
                self._stopping.wait(0.05)  # retried whether or not we are stopping
                continue
            with self.ledger.lock:
                if len(keys) == 1:
                    self.ledger.unary += 1
                else:
                    self.ledger.batches += 1
                for key, result in zip(keys, results, strict=True):
                    self.ledger.acks.setdefault(key, []).append(
                        Ack(result.event.id, result.duplicate)
                    )
            return


class Site:
    """`hookwire serve` generations on one database file, one gRPC and one HTTP port."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.database = workdir / "crash.db"
        self.grpc_port = free_port()
        self.http_port = free_port()
        self.generations: list[Hookwire] = []

    @property
    def current(self) -> Hookwire:
        return self.generations[-1]

    def start(self) -> Hookwire:
        server = Hookwire(
            self.workdir,
            self.database,
            SERVE_ARGS,
            f"serve-{len(self.generations)}",
            grpc_port=self.grpc_port,
        )
        server.http_port = self.http_port  # serve binds it with SO_REUSEADDR
        self.generations.append(server)
        server.start()
        return server

    def gateways(self) -> list[int]:
        found = self.current.gateway_pids()
        assert len(found) == GATEWAYS, found
        return found


@pytest.fixture
def site(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Site]:
    built = Site(tmp_path)
    try:
        yield built
    finally:
        for server in reversed(built.generations):
            server.cleanup()
        report = getattr(request.node, "rep_call", None)
        if report is None or report.failed:
            for server in built.generations[-3:]:
                print(f"--- {server.name} stdout ---\n{server.stdout[-3000:]}")
                print(f"--- {server.name} stderr (tail) ---\n{server.stderr()[-3000:]}")


def _integrity(database: Path) -> str:
    """`PRAGMA integrity_check` over a read-only connection: checking changes nothing."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
        rows = db.execute("PRAGMA integrity_check").fetchall()
    return "; ".join(str(row[0]) for row in rows)


def _list_events(hw: Hookwire) -> list[events_pb2.Event]:
    found: list[events_pb2.Event] = []
    token = ""
    while True:
        page = hw.events.ListEvents(
            events_pb2.ListEventsRequest(page_size=1000, page_token=token, type="crash.*"),
            timeout=RPC_TIMEOUT,
        )
        found.extend(page.events)
        token = page.next_page_token
        if not token:
            return found


def _await_acknowledged(ledger: Ledger, more: int, when: str) -> None:
    """Wait for `more` acknowledgements, so a kill lands at a random point of the load."""
    target = ledger.acked() + more
    eventually_sync(
        lambda: ledger.acked() >= target, within=30, what=f"{when}: {target} acknowledged"
    )


def _await_replaced(site: Site, gateways: list[int], when: str) -> None:
    eventually_sync(
        lambda: set(site.gateways()) - set(gateways),
        within=20,
        what=f"{when}: serve restarted the killed gateway",
    )


def _republish_acknowledged(hw: Hookwire, ledger: Ledger, rng: random.Random) -> int:
    """Publish a few acknowledged keys again: each must be the same event, a duplicate."""
    acked = ledger.first_acks()
    sample = rng.sample(sorted(acked), min(5, len(acked)))
    for key in sample:
        answer = hw.events.PublishEvent(
            events_pb2.PublishEventRequest(
                type=ledger.event_types[key],
                data=json.dumps({"key": key}).encode(),
                idempotency_key=key,
            ),
            timeout=RPC_TIMEOUT,
        )
        assert (answer.duplicate, answer.event.id) == (True, acked[key].event_id), key
    return len(sample)


def test_crashes_under_publish_load_lose_no_acknowledged_event_and_duplicate_none(
    site: Site, receiver: ThreadedReceiver
) -> None:
    seed = _seed()
    print(f"crash test seed {seed}: replay with HOOKWIRE_CHAOS_SEED={seed}, cycles {CYCLES}")
    rng = random.Random(seed)
    hw = site.start()
    subscription = hw.create_subscription(receiver.url(PATH), ["crash.*"])
    receiver.secrets[PATH] = subscription.secret
    ledger = Ledger()
    publisher = Publisher(hw.address, seed, ledger)
    publisher.start()
    kills: Counter[str] = Counter()
    republished = 0
    try:
        for cycle in range(CYCLES):
            _await_acknowledged(ledger, rng.randint(1, 40), f"cycle {cycle} (seed {seed})")
            kind = rng.choice(["broker", "gateway", "both"])
            kills[kind] += 1
            if kind in ("gateway", "both"):
                gateways = eventually_sync(site.gateways, what=f"cycle {cycle}: gateways")
                os.kill(rng.choice(gateways), signal.SIGKILL)
            if kind == "gateway":
                _await_replaced(site, gateways, f"cycle {cycle} (seed {seed})")
                continue
            site.current.kill_group()
            assert _integrity(site.database) == "ok", f"cycle {cycle} (seed {seed})"
            hw = site.start()
            republished += _republish_acknowledged(hw, ledger, rng)
    finally:
        answered = publisher.stop(within=30)

    assert answered, "a publish was never answered"
    assert ledger.unexpected == [], ledger.unexpected[:5]
    acked = ledger.first_acks()
    assert set(acked) == ledger.sent

    listed = _list_events(hw)
    per_key = Counter(e.idempotency_key for e in listed)
    assert [k for k, n in per_key.items() if n > 1] == [], "a key produced two events"
    assert {e.idempotency_key: e.id for e in listed} == {
        key: ack.event_id for key, ack in acked.items()
    }
    keys_by_id = {e.id: e.idempotency_key for e in listed}

    def all_delivered() -> set[str]:
        seen = {r.webhook_id for r in receiver.requests(PATH)}
        missing = set(keys_by_id) - seen
        assert not missing, f"{len(missing)} acknowledged events not delivered yet"
        return seen

    delivered = eventually_sync(all_delivered, within=60, what=f"every event (seed {seed})")
    webhooks = receiver.requests(PATH)
    assert delivered <= set(keys_by_id), "a webhook for an event that was never published"
    assert [r.signature_error for r in webhooks if not r.signature_valid] == []
    assert all(r.json()["data"] == {"key": keys_by_id[r.webhook_id]} for r in webhooks)

    final = site.current
    final.cleanup()
    assert final.proc is not None and final.proc.returncode == 0, final.stderr()[-2000:]
    assert _integrity(site.database) == "ok"
    in_doubt_duplicates = sum(1 for acks in ledger.acks.values() if acks[0].duplicate)
    print(
        f"seed {seed}: kills {dict(kills)}; {len(ledger.sent)} events published "
        f"({ledger.unary} unary, {ledger.batches} batches), {len(acked)} acknowledged, "
        f"{ledger.in_doubt} publishes retried, {in_doubt_duplicates} retries found committed "
        f"(duplicate), {republished} acknowledged keys republished as duplicates; "
        f"{len(delivered)} delivered in {len(webhooks)} webhooks"
    )
