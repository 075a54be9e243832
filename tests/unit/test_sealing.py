"""Secrets at rest: the sealing rule, and the connector credential hash the broker keeps
and the gateway compares (the two may not import each other, so a test pins them)."""

from __future__ import annotations

import base64
import dataclasses
import json
import os
from pathlib import Path

import pytest

from broker import source_rules
from broker.config import BrokerConfig
from broker.storage import sealing
from gateway.providers.base import Refused
from gateway.providers.connector import Connector, credential_hash
from tests.support.inbound import inbound_request, resolved_source

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


def test_a_sealed_value_opens_only_in_its_own_row_and_column() -> None:
    sealer = sealing.Sealer([KEY])
    sealed = sealer.seal("whsec_known", "sub_1", "secret")
    assert sealed.startswith(f"v1.{sealing.key_id(KEY)}.")
    assert "whsec_known" not in sealed
    assert sealer.open(sealed, "sub_1", "secret") == "whsec_known"
    for row_id, column in (("sub_2", "secret"), ("sub_1", "previous_secret")):
        with pytest.raises(sealing.SealingError, match="does not open"):
            sealer.open(sealed, row_id, column)


def test_a_value_sealed_under_another_key_is_a_clear_error() -> None:
    sealed = sealing.Sealer([OTHER_KEY]).seal("s3cret", "src_1", "secret")
    with pytest.raises(sealing.SealingError) as caught:
        sealing.Sealer([KEY]).open(sealed, "src_1", "secret")
    assert str(caught.value) == "the secret key does not open this database's secrets"


def test_older_keys_stay_readable_and_new_values_use_the_newest() -> None:
    old = sealing.Sealer([KEY]).seal("s3cret", "src_1", "secret")
    both = sealing.Sealer([OTHER_KEY, KEY])
    assert both.open(old, "src_1", "secret") == "s3cret"
    assert sealing.sealed_key_id(both.seal("s3cret", "src_1", "secret")) == (
        sealing.key_id(OTHER_KEY)
    )


def test_a_sealer_reads_its_key_file_again_when_it_meets_a_new_key_id(tmp_path: Path) -> None:
    path = str(tmp_path / "db.secret-key")
    sealing.write_key_file(path, [KEY])
    running = sealing.Sealer(sealing.read_key_file(path), key_file=path)
    new = sealing.add_key(path)
    sealed_elsewhere = sealing.Sealer([new]).seal("s3cret", "sub_1", "secret")
    assert running.open(sealed_elsewhere, "sub_1", "secret") == "s3cret"
    assert running.key_id == sealing.key_id(new)
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_a_key_that_is_not_32_bytes_of_base64_is_refused_saying_why() -> None:
    with pytest.raises(ValueError, match="a key must decode to 32 bytes"):
        sealing.Sealer.from_text(base64.b64encode(b"short").decode())
    with pytest.raises(ValueError, match="a key must be base64"):
        sealing.Sealer.from_text("not base64!")


def test_the_gateway_hashes_a_connector_credential_as_the_broker_stores_it() -> None:
    token = base64.urlsafe_b64encode(bytes(range(32))).decode().rstrip("=")
    assert credential_hash(token.encode()) == sealing.hash_connector_token(token)
    assert sealing.is_connector_hash(sealing.hash_connector_token(token))
    assert not sealing.is_connector_hash(token)


def test_a_connector_accepts_its_credential_against_the_stored_hash_only() -> None:
    token = "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5"
    source = resolved_source("connector", sealing.hash_connector_token(token))
    body = json.dumps({"text": "hello"}).encode()
    request = dataclasses.replace(inbound_request(body=body), path_secret=token)
    assert Connector().authenticate(request, source, now=0).publish
    for presented in (token[:-1] + "x", sealing.hash_connector_token(token)):
        wrong = dataclasses.replace(request, path_secret=presented)
        with pytest.raises(Refused):
            Connector().authenticate(wrong, source, now=0)


def test_the_broker_reads_its_key_from_the_environment_and_never_shows_it() -> None:
    text = base64.b64encode(KEY).decode()
    config = BrokerConfig.from_env({"HOOKWIRE_SECRET_KEY": text})
    assert config.secret_key == text
    assert text not in repr(config)
    with pytest.raises(ValueError) as caught:
        BrokerConfig.from_env({"HOOKWIRE_SECRET_KEY": base64.b64encode(b"short").decode()})
    assert str(caught.value) == "HOOKWIRE_SECRET_KEY: a key must decode to 32 bytes"


def test_storage_names_the_connector_provider_as_the_source_rules_do() -> None:
    assert sealing.CONNECTOR == source_rules.CONNECTOR
