"""`hookwire keys rotate` against a database file: a new key first in the key file, every
secret re-sealed under it, and one line (exit 1) when there is nothing to rotate."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from broker.domain import Source
from broker.storage import sealing
from broker.storage.sqlite import SqliteStore
from hookwire.cli import main


async def make_database(path: Path) -> None:
    store = await SqliteStore.open(str(path))
    try:
        await store.create_source(Source("src_1", "github", "gh-secret", "github"))
    finally:
        await store.close()


async def read_source(path: Path) -> Source | None:
    store = await SqliteStore.open(str(path))
    try:
        return await store.get_source("src_1")
    finally:
        await store.close()


def test_keys_rotate_puts_a_new_key_first_and_reseals_every_secret_under_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOOKWIRE_SECRET_KEY", raising=False)
    db = tmp_path / "hookwire.db"
    asyncio.run(make_database(db))
    [old] = sealing.read_key_file(f"{db}.secret-key")

    assert main(["keys", "rotate", "--database-url", f"sqlite:///{db}"]) == 0

    new, kept = sealing.read_key_file(f"{db}.secret-key")
    assert kept == old and new != old
    assert f"sealed under key {sealing.key_id(new)} (1 rows re-sealed)" in capsys.readouterr().out
    with sqlite3.connect(db) as conn:
        [(secret,)] = conn.execute("SELECT secret FROM sources").fetchall()
    conn.close()
    assert sealing.sealed_key_id(secret) == sealing.key_id(new)
    source = asyncio.run(read_source(db))
    assert source is not None and source.secret == "gh-secret"


def test_keys_rotate_without_a_key_file_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOOKWIRE_SECRET_KEY", raising=False)
    db = tmp_path / "none.db"
    assert main(["keys", "rotate", "--database-url", f"sqlite:///{db}"]) == 1
    assert capsys.readouterr().err == f"hookwire: no secret key file at {db}.secret-key\n"


def test_keys_rotate_can_retire_the_old_keys_once_nothing_is_sealed_under_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOOKWIRE_SECRET_KEY", raising=False)
    db = tmp_path / "hookwire.db"
    asyncio.run(make_database(db))
    url = f"sqlite:///{db}"
    assert main(["keys", "rotate", "--database-url", url, "--retire-old-keys"]) == 0
    [only] = sealing.read_key_file(f"{db}.secret-key")
    assert f"sealed under key {sealing.key_id(only)}" in capsys.readouterr().out
    source = asyncio.run(read_source(db))
    assert source is not None and source.secret == "gh-secret"
