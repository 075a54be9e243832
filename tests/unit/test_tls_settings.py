"""TLS settings: the broker's certificate, key and client CA from the environment and flags,
and a client's trust and certificate; a half-given pair is one line naming the setting."""

from __future__ import annotations

import pytest

from broker.config import BrokerConfig
from gateway.main import GatewayConfig
from hookwire.cli import build_parser
from hookwire.client import TlsFiles
from hookwire.serve import config_from_flags
from hookwire.settings import SettingError


def test_the_broker_reads_its_certificate_key_and_client_ca_from_the_environment() -> None:
    config = BrokerConfig.from_env(
        {
            "HOOKWIRE_TLS_CERT": "/etc/hw/broker.crt",
            "HOOKWIRE_TLS_KEY": "/etc/hw/broker.key",
            "HOOKWIRE_TLS_CLIENT_CA": "/etc/hw/clients.crt",
        }
    )
    assert (config.tls_cert, config.tls_key, config.tls_client_ca) == (
        "/etc/hw/broker.crt",
        "/etc/hw/broker.key",
        "/etc/hw/clients.crt",
    )


def test_the_broker_is_plain_text_when_nothing_is_set() -> None:
    config = BrokerConfig.from_env({})
    assert (config.tls_cert, config.tls_key, config.tls_client_ca) == ("", "", "")


def test_a_certificate_without_its_key_stops_the_broker_naming_the_missing_setting() -> None:
    with pytest.raises(SettingError, match=r"^HOOKWIRE_TLS_KEY: "):
        BrokerConfig.from_env({"HOOKWIRE_TLS_CERT": "broker.crt"})


def test_a_client_ca_without_a_certificate_stops_the_broker() -> None:
    with pytest.raises(SettingError, match=r"^HOOKWIRE_TLS_CLIENT_CA: "):
        BrokerConfig.from_env({"HOOKWIRE_TLS_CLIENT_CA": "clients.crt"})


def test_serve_flags_override_the_environment_and_keep_the_clients_flags_apart() -> None:
    flags = build_parser().parse_args(
        ["--tls-ca", "client-ca.crt", "serve", "--tls-cert", "b.crt", "--tls-key", "b.key"]
    )
    config = config_from_flags(
        flags, {"HOOKWIRE_TLS_CERT": "env.crt", "HOOKWIRE_TLS_KEY": "env.key"}
    )
    assert (config.tls_cert, config.tls_key) == ("b.crt", "b.key")
    assert flags.tls_ca == "client-ca.crt" and flags.tls_cert == ""


def test_a_serve_flag_giving_only_the_key_is_refused() -> None:
    flags = build_parser().parse_args(["broker", "--tls-key", "b.key"])
    with pytest.raises(SettingError, match=r"^HOOKWIRE_TLS_CERT: "):
        config_from_flags(flags, {})


def test_a_client_reads_its_ca_and_certificate_from_the_environment_and_flags_win() -> None:
    env = {
        "HOOKWIRE_TLS_CA": "ca.crt",
        "HOOKWIRE_TLS_CLIENT_CERT": "me.crt",
        "HOOKWIRE_TLS_CLIENT_KEY": "me.key",
        "HOOKWIRE_TLS_CERT": "server.crt",  # the broker's, never presented by a client
    }
    assert TlsFiles.from_env(env) == TlsFiles("ca.crt", "me.crt", "me.key")
    assert TlsFiles.from_env(env, ca="other.crt").ca == "other.crt"
    assert not TlsFiles.from_env({}).enabled


def test_a_client_certificate_without_its_key_stops_a_gateway() -> None:
    with pytest.raises(SettingError, match=r"^HOOKWIRE_TLS_CLIENT_KEY: "):
        GatewayConfig.from_env({"HOOKWIRE_TLS_CLIENT_CERT": "me.crt"})
