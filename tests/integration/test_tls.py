"""TLS on the broker's gRPC port, and client certificates (mutual TLS) in place of tokens.

A real broker listens with certificates made for the test; real channels connect with
the gateway's channel code (`gateway.broker_channel`, `hookwire.client.TlsFiles`).
"""

from __future__ import annotations

import logging
from pathlib import Path

import grpc
import pytest

from broker.grpc.access import AccessControl, ClientCertificates
from broker.server import Broker
from gateway.broker_channel import broker_channel
from hookwire.client import TlsFiles
from hookwire.v1 import events_pb2, subscriptions_pb2
from tests.support.certificates import CertificateAuthority
from tests.support.in_process import ADMIN_TOKEN, Api, StartBroker, expect_rpc_error

CONNECT_TIMEOUT = 5.0


@pytest.fixture
def authority(tmp_path: Path) -> CertificateAuthority:
    return CertificateAuthority(tmp_path)


async def tls_broker(
    start_broker: StartBroker, authority: CertificateAuthority, client_ca: bool = False
) -> Broker:
    server = authority.server("127.0.0.1")
    return await start_broker(
        tls_cert=str(server.cert),
        tls_key=str(server.key),
        tls_client_ca=str(authority.cert) if client_ca else "",
    )


def address(broker: Broker) -> str:
    return f"127.0.0.1:{broker.port}"


async def publish(api: Api) -> events_pb2.PublishEventResponse:
    return await api.events.PublishEvent(
        events_pb2.PublishEventRequest(type="order.created", data=b"{}"),
        timeout=CONNECT_TIMEOUT,
    )


async def test_a_tls_broker_serves_a_tls_client_calling_with_a_token(
    start_broker: StartBroker, authority: CertificateAuthority
) -> None:
    broker = await tls_broker(start_broker, authority)
    tls = TlsFiles(ca=str(authority.cert))
    async with broker_channel(address(broker), ADMIN_TOKEN, tls) as channel:
        answer = await publish(Api(channel))
    assert answer.event.id.startswith("evt_")


async def test_a_tls_broker_cannot_be_reached_in_plain_text(
    start_broker: StartBroker, authority: CertificateAuthority
) -> None:
    broker = await tls_broker(start_broker, authority)
    async with broker_channel(address(broker), ADMIN_TOKEN) as channel:
        await expect_rpc_error(publish(Api(channel)), grpc.StatusCode.UNAVAILABLE)


async def test_a_client_that_does_not_trust_the_brokers_ca_cannot_connect(
    start_broker: StartBroker, authority: CertificateAuthority, tmp_path: Path
) -> None:
    broker = await tls_broker(start_broker, authority)
    stranger = CertificateAuthority(tmp_path, "another CA")
    tls = TlsFiles(ca=str(stranger.cert))
    async with broker_channel(address(broker), ADMIN_TOKEN, tls) as channel:
        await expect_rpc_error(publish(Api(channel)), grpc.StatusCode.UNAVAILABLE)


async def test_a_client_certificate_naming_the_publisher_role_may_publish_but_not_subscribe(
    start_broker: StartBroker, authority: CertificateAuthority
) -> None:
    broker = await tls_broker(start_broker, authority, client_ca=True)
    client = authority.client("billing-service", role="publisher")
    tls = TlsFiles(ca=str(authority.cert), cert=str(client.cert), key=str(client.key))
    async with broker_channel(address(broker), "", tls) as channel:
        api = Api(channel)
        assert (await publish(api)).event.id.startswith("evt_")
        details = await expect_rpc_error(
            api.subscriptions.CreateSubscription(
                subscriptions_pb2.CreateSubscriptionRequest(
                    subscription=subscriptions_pb2.Subscription(
                        url="http://127.0.0.1:9/hook", event_types=["order.*"]
                    )
                ),
                timeout=CONNECT_TIMEOUT,
            ),
            grpc.StatusCode.PERMISSION_DENIED,
        )
    assert "publisher role may not call CreateSubscription" in details


async def test_a_client_certificate_naming_no_role_is_unauthenticated(
    start_broker: StartBroker, authority: CertificateAuthority
) -> None:
    broker = await tls_broker(start_broker, authority, client_ca=True)
    client = authority.client("nobody")
    tls = TlsFiles(ca=str(authority.cert), cert=str(client.cert), key=str(client.key))
    async with broker_channel(address(broker), "", tls) as channel:
        await expect_rpc_error(publish(Api(channel)), grpc.StatusCode.UNAUTHENTICATED)


async def test_a_client_certificate_from_an_unknown_ca_cannot_connect(
    start_broker: StartBroker, authority: CertificateAuthority, tmp_path: Path
) -> None:
    broker = await tls_broker(start_broker, authority, client_ca=True)
    stranger = CertificateAuthority(tmp_path, "another CA").client("intruder", role="admin")
    tls = TlsFiles(ca=str(authority.cert), cert=str(stranger.cert), key=str(stranger.key))
    async with broker_channel(address(broker), "", tls) as channel:
        await expect_rpc_error(publish(Api(channel)), grpc.StatusCode.UNAVAILABLE)


async def test_with_client_certificates_required_a_token_rides_on_any_certificate_of_the_ca(
    start_broker: StartBroker, authority: CertificateAuthority
) -> None:
    broker = await tls_broker(start_broker, authority, client_ca=True)
    client = authority.client("admin-console")  # no role: the token says who calls
    tls = TlsFiles(ca=str(authority.cert), cert=str(client.cert), key=str(client.key))
    async with broker_channel(address(broker), ADMIN_TOKEN, tls) as channel:
        assert (await publish(Api(channel))).event.id.startswith("evt_")


async def test_with_client_certificates_required_a_client_without_one_cannot_connect(
    start_broker: StartBroker, authority: CertificateAuthority
) -> None:
    broker = await tls_broker(start_broker, authority, client_ca=True)
    tls = TlsFiles(ca=str(authority.cert))
    async with broker_channel(address(broker), ADMIN_TOKEN, tls) as channel:
        await expect_rpc_error(publish(Api(channel)), grpc.StatusCode.UNAVAILABLE)


def test_a_certificates_role_is_read_once_and_its_common_name_names_the_caller(
    authority: CertificateAuthority,
) -> None:
    pem = authority.client("billing-service", role="PUBLISHER").cert.read_bytes()
    certificates = ClientCertificates()
    first = certificates.principal([pem])
    assert first is not None and first.token_id == "cert:billing-service"
    assert first.role.value == "PUBLISHER"
    assert certificates.principal([pem]) is first  # cached: parsed once per certificate


def test_a_certificate_whose_unit_is_not_a_role_names_no_caller(
    authority: CertificateAuthority,
) -> None:
    pem = authority.client("ops", role="superuser").cert.read_bytes()
    assert ClientCertificates().principal([pem]) is None


async def test_a_plain_text_broker_on_every_interface_warns_once_that_the_api_travels_in_clear(
    start_broker: StartBroker, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="broker.server"):
        await start_broker(grpc_address="0.0.0.0:0")
    warnings = [r for r in caplog.records if r.name == "broker.server"]
    assert len(warnings) == 1 and "without TLS" in warnings[0].getMessage()


async def test_a_plain_text_broker_on_loopback_does_not_warn(
    start_broker: StartBroker, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="broker.server"):
        await start_broker()
    assert [r for r in caplog.records if r.name == "broker.server"] == []


async def test_a_call_with_a_token_never_asks_for_the_peers_certificate(
    start_broker: StartBroker,
) -> None:
    broker = await start_broker()
    access = AccessControl(broker.tokens)

    def auth_context() -> dict[str, list[bytes]]:
        raise AssertionError("the token path read the peer's certificate")

    metadata = (("authorization", f"Bearer {ADMIN_TOKEN}"),)
    caller = await access.admit("/hookwire.v1.EventService/PublishEvent", metadata, auth_context)
    assert caller.role.value == "ADMIN"
