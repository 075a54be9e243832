"""Group commit on a real SQLite file: concurrent publishes share commits, lingering
never loses one, and shutting down commits what waits and refuses what comes after."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from broker.clock import ManualClock, SeededRandom
from broker.domain import NewEvent
from broker.errors import Unavailable
from broker.ids import IdFactory
from broker.publishing import Publisher, PublishLimits
from broker.storage.sqlite import SqliteStore


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    opened = await SqliteStore.open(str(tmp_path / "publisher.db"))
    yield opened
    await opened.close()


def publisher(store: SqliteStore, linger: float) -> Publisher:
    clock = ManualClock()
    return Publisher(
        store, clock, IdFactory(clock, SeededRandom()), lambda: None,
        PublishLimits(commit_linger=linger),
    )  # fmt: skip


def event(n: int) -> NewEvent:
    return NewEvent("order.created", b'{"n": %d}' % n, "application/json", {}, "")


@pytest.mark.parametrize("linger", [0.0, 0.003])
async def test_waves_of_concurrent_publishes_are_all_stored(
    store: SqliteStore, linger: float
) -> None:
    pub = publisher(store, linger)
    pub.start()
    results = []
    for wave in range(5):  # after a crowded commit, the next one lingers
        results += await asyncio.gather(*(pub.publish([event(wave * 100 + i)]) for i in range(40)))
    await pub.stop()
    ids = [r.event.id for [r] in results]
    assert len(set(ids)) == 200
    for [result] in results:
        stored = await store.get_event(result.event.id)
        assert stored is not None and stored.data == result.event.data


async def test_stop_commits_the_waiting_publishes_and_refuses_later_ones(
    store: SqliteStore,
) -> None:
    pub = publisher(store, 0.003)
    pub.start()
    waiting = [asyncio.create_task(pub.publish([event(i)])) for i in range(30)]
    await asyncio.sleep(0)  # every publish is waiting for a commit
    await pub.stop()
    assert all(task.done() for task in waiting)
    for task in waiting:
        [result] = task.result()
        assert await store.get_event(result.event.id) is not None
    with pytest.raises(Unavailable, match="shutting down"):
        await pub.publish([event(99)])


async def test_a_failing_commit_fails_its_callers_and_the_next_commit_works(
    store: SqliteStore,
) -> None:
    pub = publisher(store, 0.0)
    pub.start()
    unstorable = NewEvent("order.created", b"{}", "application/json", {"k": {1}}, "")  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        await asyncio.wait_for(pub.publish([unstorable]), 5)
    [result] = await pub.publish([event(1)])
    assert await store.get_event(result.event.id) is not None
    await pub.stop()
