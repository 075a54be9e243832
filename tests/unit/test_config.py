"""Operators configure the broker and gateways through `HOOKWIRE_*` variables; durations take
units, and a bad value is one line naming the setting."""

from __future__ import annotations

import pytest

from broker.config import BrokerConfig
from gateway.main import GatewayConfig
from hookwire.settings import SettingError, log_level, setting


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


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("HOOKWIRE_LEASE_SECONDS", "soon", "not a duration: 'soon'"),
        ("HOOKWIRE_REQUEST_TIMEOUT", "-5s", "not a duration: '-5s'"),
        ("HOOKWIRE_VERIFICATION_TIMEOUT", "5 parsecs", "not a duration: '5 parsecs'"),
        ("HOOKWIRE_RETRY_SCHEDULE", "5s,-1m", "not a duration: '-1m'"),
        ("HOOKWIRE_MAX_EVENT_BYTES", "1MiB", "not a whole number: '1MiB'"),
        ("HOOKWIRE_MAX_EVENT_BYTES", "0", "must be at least 1, got 0"),
        ("HOOKWIRE_MAX_IN_FLIGHT_PER_SUBSCRIPTION", "1.5", "not a whole number: '1.5'"),
        ("HOOKWIRE_COMMIT_LINGER_MS", "-3", "not a non-negative number: '-3'"),
        ("HOOKWIRE_ADMIN_TOKEN", "short", "must be at least 32 characters"),
    ],
)
def test_a_bad_broker_setting_is_one_line_naming_it(name: str, value: str, problem: str) -> None:
    with pytest.raises(ValueError) as raised:
        BrokerConfig.from_env({name: value})
    assert str(raised.value).startswith(f"{name}: {problem}")
    assert "\n" not in str(raised.value)


def test_request_timeout_lease_and_verification_timeout_take_units() -> None:
    config = BrokerConfig.from_env(
        {
            "HOOKWIRE_REQUEST_TIMEOUT": "500ms",
            "HOOKWIRE_LEASE_SECONDS": "2m",
            "HOOKWIRE_VERIFICATION_TIMEOUT": "15s",
        }
    )
    assert config.dispatch.request_timeout == 0.5
    assert config.dispatch.lease_seconds == 120
    assert config.subscriptions.verification_timeout == 15


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("HOOKWIRE_ALLOWED_CIDRS", "10.0.0.0/8,10.0.0.0/33", "invalid CIDR in allow-list"),
        ("HOOKWIRE_GATEWAY_CONCURRENCY", "lots", "not a whole number: 'lots'"),
        ("HOOKWIRE_GATEWAY_CONCURRENCY", "0", "must be at least 1, got 0"),
        ("HOOKWIRE_MAX_INBOUND_BYTES", "1e6", "not a whole number: '1e6'"),
        ("HOOKWIRE_GATEWAY_TOKEN_FILE", "/nonexistent/token", "No such file or directory"),
    ],
)
def test_a_bad_gateway_setting_is_one_line_naming_it(name: str, value: str, problem: str) -> None:
    with pytest.raises(ValueError) as raised:
        GatewayConfig.from_env({name: value})
    assert str(raised.value).startswith(f"{name}: {problem}")
    assert "\n" not in str(raised.value)


def test_gateway_settings_from_the_environment() -> None:
    config = GatewayConfig.from_env(
        {
            "HOOKWIRE_ALLOWED_CIDRS": "127.0.0.0/8, ::1/128",
            "HOOKWIRE_GATEWAY_CONCURRENCY": "64",
            "HOOKWIRE_MAX_INBOUND_BYTES": "4096",
        }
    )
    assert config.allowed_cidrs == "127.0.0.0/8, ::1/128"
    assert config.concurrency == 64
    assert config.max_inbound_bytes == 4096
    assert config.listen_fd == -1


@pytest.mark.parametrize(
    ("value", "level"), [("debug", "DEBUG"), (" WARNING ", "WARNING"), ("", "INFO")]
)
def test_a_log_level_is_a_name_logging_knows(value: str, level: str) -> None:
    assert setting({"HOOKWIRE_LOG_LEVEL": value}, "HOOKWIRE_LOG_LEVEL", log_level, "INFO") == level


def test_a_bad_log_level_is_one_line_naming_it() -> None:
    with pytest.raises(SettingError, match=r"^HOOKWIRE_LOG_LEVEL: not a log level: 'loud'"):
        setting({"HOOKWIRE_LOG_LEVEL": "loud"}, "HOOKWIRE_LOG_LEVEL", log_level, "INFO")
