"""Operators configure the broker through `HOOKWIRE_*` variables; durations take units."""

from __future__ import annotations

import pytest

from broker.config import BrokerConfig


def test_defaults_when_nothing_is_set() -> None:
    config = BrokerConfig.from_env({})
    assert config.subscriptions.max_lifetime == 180 * 86400
    assert config.subscriptions.verification_timeout == 5
    assert config.subscriptions.rotation_overlap == 86400
    assert config.lifecycle.warn_before == 86400
    assert config.lifecycle.retention == 30 * 86400
    assert config.retry.disable_after == 5 * 86400
    assert config.public_url == "http://127.0.0.1:8080"
    assert config.publish.commit_linger == 0.003


def test_lifecycle_settings_from_the_environment() -> None:
    config = BrokerConfig.from_env(
        {
            "HOOKWIRE_MAX_LIFETIME": "30d",
            "HOOKWIRE_VERIFICATION_TIMEOUT": "2s",
            "HOOKWIRE_ROTATION_OVERLAP": "0",
            "HOOKWIRE_EXPIRY_WARNING": "6h",
            "HOOKWIRE_RETENTION": "7d",
            "HOOKWIRE_DISABLE_AFTER": "36h",
            "HOOKWIRE_LIFECYCLE_INTERVAL": "0.5",
            "HOOKWIRE_RETRY_SCHEDULE": "1s,1m",
            "HOOKWIRE_HTTP_ADDRESS": "0.0.0.0:9999",
        }
    )
    assert config.subscriptions.max_lifetime == 30 * 86400
    assert config.subscriptions.verification_timeout == 2
    assert config.subscriptions.rotation_overlap == 0
    assert config.lifecycle.warn_before == 6 * 3600
    assert config.lifecycle.retention == 7 * 86400
    assert config.lifecycle.interval == 0.5
    assert config.retry.disable_after == 36 * 3600
    assert config.retry.schedule == (1, 60)
    assert config.public_url == "http://0.0.0.0:9999"
    assert BrokerConfig.from_env({"HOOKWIRE_COMMIT_LINGER_MS": "0"}).publish.commit_linger == 0
    assert BrokerConfig.from_env(
        {"HOOKWIRE_PUBLIC_URL": "https://hooks.example.com"}
    ).public_url == ("https://hooks.example.com")


def test_a_blank_duration_is_the_default_and_a_malformed_one_an_error() -> None:
    assert BrokerConfig.from_env({"HOOKWIRE_RETENTION": " "}).lifecycle.retention == 30 * 86400
    for bad in ("1s,2s", "soon"):
        with pytest.raises(ValueError, match=bad):
            BrokerConfig.from_env({"HOOKWIRE_RETENTION": bad})
