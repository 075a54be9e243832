"""Assembles the broker: store, use cases, servicers, health and reflection on one gRPC server."""

from __future__ import annotations

import ipaddress
import logging
import os

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from broker.clock import Clock, RandomSource, SystemClock, SystemRandom
from broker.config import BrokerConfig, sqlite_path
from broker.deliveries import DeliveryManager
from broker.dispatcher import Dispatcher, Wakeup
from broker.domain import Role
from broker.events import EventManager
from broker.gateway_hub import GatewayHub
from broker.grpc.access import AccessControl
from broker.grpc.deliveries import DeliveryService
from broker.grpc.events import EventService
from broker.grpc.services import SERVICE_NAMES, add_services
from broker.grpc.sources import SourceService
from broker.grpc.status import ErrorTranslation
from broker.grpc.subscriptions import SubscriptionService
from broker.grpc.tokens import TokenService
from broker.ids import IdFactory
from broker.lifecycle import LifecycleSweeper
from broker.publishing import Publisher
from broker.sources import SourceManager
from broker.storage.contract import Store, StoreError
from broker.storage.sealing import (
    Sealer,
    add_key,
    key_file_for,
    read_key_file,
    write_key_file,
)
from broker.storage.sqlite import SqliteStore
from broker.subscriptions import SubscriptionManager
from broker.tokens import TokenManager
from hookwire.local_token import admin_token_file

log = logging.getLogger(__name__)


MAX_MESSAGE_BYTES = 64 * 1024 * 1024  # sent; what is received follows PublishLimits
# Calls in progress on one connection; more wait in the client, once it has the server's
# settings: the calls a client opens on a new connection before that are refused beyond
# the bound (UNAVAILABLE, measured with grpcio 1.85: 53 of 207 calls at 128), so the bound
# stays above any sane burst. Each call may hold `PublishLimits.max_request_bytes()`.
MAX_CONCURRENT_STREAMS = 1024


async def open_store(database_url: str, secret_key: str = "") -> Store:
    """The store at `database_url`, sealing secrets under `secret_key` (base64 keys, newest
    first) or, when it is empty, the key file beside the database."""
    sealer = Sealer.from_text(secret_key) if secret_key else None
    if database_url.startswith("sqlite:"):
        return await SqliteStore.open(sqlite_path(database_url), sealer)
    raise ValueError(f"unsupported database URL {database_url.split(':', 1)[0]!r}")


async def rotate_secret_key(
    database_url: str, secret_key: str = "", retire_old_keys: bool = False
) -> tuple[str, int]:
    """Re-seal every secret under a new key; (the new key's id, rows re-sealed).

    With keys given (`secret_key`), the operator has put the new one first and keeps the old
    ones after it until this has run. Otherwise a new key goes first in the key file beside
    the database, the old ones staying readable (for backups, say) unless `retire_old_keys`.
    Rows are re-sealed a hundred per transaction, so a running broker goes on delivering; it
    reads the key file again when the file changes or it meets a key id it does not know,
    and it seals inside its write transactions, so once a pass that began after the new key
    was written finds nothing left, no value under an old key can appear again.
    """
    if not database_url.startswith("sqlite:"):
        raise ValueError(f"unsupported database URL {database_url.split(':', 1)[0]!r}")
    path = key_file_for(sqlite_path(database_url))
    if not secret_key:
        if not read_key_file(path):
            raise StoreError(f"no secret key file at {path}")
        add_key(path)
    sealer = Sealer.from_text(secret_key) if secret_key else None
    store = await SqliteStore.open(sqlite_path(database_url), sealer)
    try:
        resealed = store.resealed_at_open
        while changed := await store.reseal_secrets():
            resealed += changed
        key_id = store.sealing_key_id
    finally:
        await store.close()
    if retire_old_keys and not secret_key:
        write_key_file(path, read_key_file(path)[:1])
    return key_id, resealed


def write_owner_only(path: str, text: str) -> str:
    """Write a file only its owner may read; returns its absolute path."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        os.fchmod(file.fileno(), 0o600)  # an existing file keeps its mode otherwise
        file.write(text)
    return os.path.abspath(path)


def _server_credentials(config: BrokerConfig) -> grpc.ServerCredentials:
    """The broker's TLS credentials from its PEM files; an unreadable one is an OSError."""

    def read(path: str) -> bytes:
        with open(path, "rb") as file:
            return file.read()

    client_ca = read(config.tls_client_ca) if config.tls_client_ca else None
    return grpc.ssl_server_credentials(
        [(read(config.tls_key), read(config.tls_cert))],
        root_certificates=client_ca,
        require_client_auth=client_ca is not None,
    )


def _is_loopback(address: str) -> bool:
    host = address.rpartition(":")[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name, or empty (every interface)


class Broker:
    """A running broker; `await Broker.start(config)`, then `await broker.stop()`."""

    def __init__(self, config: BrokerConfig, clock: Clock, rng: RandomSource) -> None:
        self.config = config
        self.clock = clock
        self.rng = rng
        self.port = 0
        self.store: Store
        self.publisher: Publisher
        self.dispatcher: Dispatcher
        self.hub: GatewayHub
        self.tokens: TokenManager
        self._server: grpc.aio.Server
        self._health = HealthServicer()

    @classmethod
    async def start(
        cls,
        config: BrokerConfig,
        clock: Clock | None = None,
        rng: RandomSource | None = None,
        store: Store | None = None,
    ) -> Broker:
        broker = cls(config, clock or SystemClock(), rng or SystemRandom())
        broker.store = store or await open_store(config.database_url, config.secret_key)
        try:
            await broker._start()
        except BaseException:
            # The store's threads would otherwise keep a failed process alive.
            await broker._abandon()
            raise
        return broker

    async def _abandon(self) -> None:
        for part in ("publisher", "dispatcher", "lifecycle"):
            component = getattr(self, part, None)
            if component is not None:
                await component.stop()
        await self.store.close()

    async def _start(self) -> None:
        ids = IdFactory(self.clock, self.rng)
        wakeup = Wakeup()
        self.hub = GatewayHub(on_credit=wakeup.capacity)
        self.tokens = TokenManager(
            self.store, self.clock, self.rng, ids, self.config.access, self.hub.end_sessions_of
        )
        await self._write_first_admin_token()
        self.publisher = Publisher(self.store, self.clock, ids, wakeup.work, self.config.publish)
        self.dispatcher = Dispatcher(
            self.store, self.hub, wakeup, self.clock, self.rng, ids,
            self.config.retry, self.config.dispatch,
        )  # fmt: skip
        self.lifecycle = LifecycleSweeper(
            self.store, self.clock, ids, wakeup.work, self.config.lifecycle
        )
        subscriptions = SubscriptionManager(
            self.store, self.clock, self.rng, ids, self.hub, wakeup.work,
            self.config.subscriptions,
        )  # fmt: skip
        self._server = grpc.aio.server(
            interceptors=[AccessControl(self.tokens), ErrorTranslation()],
            options=[
                ("grpc.max_receive_message_length", self.config.publish.max_request_bytes()),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ("grpc.max_concurrent_streams", MAX_CONCURRENT_STREAMS),
                ("grpc.so_reuseport", 0),
            ],
        )
        add_services(
            self._server,
            EventService(self.publisher, EventManager(self.store, self.clock)),
            SubscriptionService(subscriptions),
            DeliveryService(
                DeliveryManager(self.store, self.clock, ids, wakeup.work),
                self.hub,
                self.dispatcher,
                self.clock,
            ),
            SourceService(
                SourceManager(self.store, self.clock, self.rng, ids), self.config.public_url
            ),
            TokenService(self.tokens),
        )
        health_pb2_grpc.add_HealthServicer_to_server(self._health, self._server)
        reflection.enable_server_reflection(
            (*SERVICE_NAMES, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
             reflection.SERVICE_NAME),
            self._server,
        )  # fmt: skip
        self.port = self._listen()
        if self.port == 0:
            raise OSError(f"cannot listen on {self.config.grpc_address}")
        self.publisher.start()
        self.dispatcher.start()
        if self.config.lifecycle.interval > 0:
            self.lifecycle.start()
        await self._server.start()
        for name in ("", *SERVICE_NAMES):
            await self._health.set(name, health_pb2.HealthCheckResponse.SERVING)
        log.info("broker listening on port %d", self.port)

    def _listen(self) -> int:
        """Bind the gRPC port: TLS when a certificate is configured, else plain text.

        With a client CA, every client must present a certificate it signed (mutual TLS
        only): grpcio offers no middle way, since `require_client_auth=False` does not even
        ask for one. A call that also carries a token is admitted by the token
        (AccessControl checks it first), so any certificate of the CA plus a token works.
        """
        address = self.config.grpc_address
        try:
            if not self.config.tls_cert:
                if not _is_loopback(address):
                    log.warning(
                        "gRPC API on %s without TLS: tokens and data travel in clear", address
                    )
                return self._server.add_insecure_port(address)
            return self._server.add_secure_port(address, _server_credentials(self.config))
        except RuntimeError:
            return 0

    async def _write_first_admin_token(self) -> None:
        """Zero-setup: a database with no token and no provisioned admin gets an admin
        token at first start, written beside it for the owner only (never logged)."""
        access = self.config.access
        path = admin_token_file(self.config.database_url)
        if not access.write_admin_token_file or access.admin or path is None:
            return
        if await self.tokens.any_stored():
            return
        _, secret = await self.tokens.create(Role.ADMIN, [], "local admin, made at first start", 0)
        written = write_owner_only(str(path), secret + "\n")
        log.info("admin token written to %s (mode 0600)", written)

    async def stop(self, grace: float = 10.0) -> None:
        """Drain: health NOT_SERVING, finish in-flight RPCs, commit queued work, close."""
        await self._health.enter_graceful_shutdown()
        self.hub.close()
        await self._server.stop(grace)
        await self.lifecycle.stop()
        await self.dispatcher.stop()
        await self.publisher.stop()
        await self.store.close()

    async def wait_for_termination(self) -> None:
        await self._server.wait_for_termination()
