"""Broker settings from flags and `HOOKWIRE_*` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from broker.blocked_addresses import parse_cidrs
from broker.dispatcher import DispatchSettings
from broker.lifecycle import LifecycleSettings
from broker.publishing import PublishLimits
from broker.retry_policy import RetryPolicy
from broker.storage.sealing import Sealer
from broker.subscriptions import SubscriptionSettings
from broker.tokens import AccessSettings, check_provisioned
from hookwire.durations import parse_duration, parse_durations
from hookwire.settings import SettingError, count, non_negative_number, setting

DEFAULT_DATABASE_URL = "sqlite:///./hookwire.db"
DEFAULT_GRPC_ADDRESS = "127.0.0.1:50051"
DEFAULT_HTTP_ADDRESS = "127.0.0.1:8080"


@dataclass(frozen=True)
class BrokerConfig:
    database_url: str = DEFAULT_DATABASE_URL
    grpc_address: str = DEFAULT_GRPC_ADDRESS
    # How providers reach the gateways (the base of every source's ingest_url).
    public_url: str = f"http://{DEFAULT_HTTP_ADDRESS}"
    publish: PublishLimits = field(default_factory=PublishLimits)
    subscriptions: SubscriptionSettings = field(default_factory=SubscriptionSettings)
    dispatch: DispatchSettings = field(default_factory=DispatchSettings)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    lifecycle: LifecycleSettings = field(default_factory=LifecycleSettings)
    access: AccessSettings = field(default_factory=AccessSettings)
    # Keys sealing secrets at rest (base64, comma-separated, newest first); empty: the key
    # file beside the database.
    secret_key: str = field(default="", repr=False)
    # PEM files: the broker's certificate and key (both, or neither: plain text), and the CA
    # whose client certificates are accepted in place of a token (mutual TLS).
    tls_cert: str = ""
    tls_key: str = ""
    tls_client_ca: str = ""

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, overrides: Mapping[str, object] | None = None
    ) -> BrokerConfig:
        """Settings from `env` (default: the process environment); non-None overrides win.

        Raises SettingError (a ValueError reading `HOOKWIRE_...: what is wrong`) for the
        first setting the broker cannot run with.
        """
        env = dict(os.environ) if env is None else env
        defaults = DispatchSettings()
        subs, life, retry = SubscriptionSettings(), LifecycleSettings(), RetryPolicy()

        def seconds(name: str, default: float) -> float:
            """A duration setting (`90`, `30s`, `24h`, `180d`); the default when blank."""
            return setting(env, name, parse_duration, default)

        lease = seconds("HOOKWIRE_LEASE_SECONDS", defaults.lease_seconds)
        timeout = seconds("HOOKWIRE_REQUEST_TIMEOUT", defaults.request_timeout)
        schedule = setting(env, "HOOKWIRE_RETRY_SCHEDULE", parse_durations, retry.schedule)

        database_url = env.get("HOOKWIRE_DATABASE_URL", DEFAULT_DATABASE_URL)
        admin = check_provisioned("HOOKWIRE_ADMIN_TOKEN", env.get("HOOKWIRE_ADMIN_TOKEN", ""))
        values: dict[str, object] = {
            "database_url": database_url,
            "grpc_address": env.get("HOOKWIRE_GRPC_ADDRESS", DEFAULT_GRPC_ADDRESS),
            "secret_key": setting(env, "HOOKWIRE_SECRET_KEY", _secret_key, ""),
            "public_url": env.get("HOOKWIRE_PUBLIC_URL")
            or f"http://{env.get('HOOKWIRE_HTTP_ADDRESS', DEFAULT_HTTP_ADDRESS)}",
            "publish": PublishLimits(
                max_data_bytes=setting(env, "HOOKWIRE_MAX_EVENT_BYTES", count(1), 256 * 1024),
                commit_linger=setting(env, "HOOKWIRE_COMMIT_LINGER_MS", non_negative_number, 3.0)
                / 1000,
            ),
            "dispatch": DispatchSettings(
                lease_seconds=lease,
                request_timeout=timeout,
                max_in_flight_per_subscription=setting(
                    env,
                    "HOOKWIRE_MAX_IN_FLIGHT_PER_SUBSCRIPTION",
                    count(1),
                    defaults.max_in_flight_per_subscription,
                ),
            ),
            "retry": RetryPolicy(
                schedule=schedule or retry.schedule,
                disable_after=seconds("HOOKWIRE_DISABLE_AFTER", retry.disable_after),
            ),
            "subscriptions": SubscriptionSettings(
                max_lifetime=seconds("HOOKWIRE_MAX_LIFETIME", subs.max_lifetime),
                allowed_cidrs=setting(
                    env, "HOOKWIRE_ALLOWED_CIDRS", parse_cidrs, subs.allowed_cidrs
                ),
                verification_timeout=seconds(
                    "HOOKWIRE_VERIFICATION_TIMEOUT", subs.verification_timeout
                ),
                rotation_overlap=seconds("HOOKWIRE_ROTATION_OVERLAP", subs.rotation_overlap),
            ),
            "access": AccessSettings(
                admin=admin,
                gateway=check_provisioned(
                    "HOOKWIRE_GATEWAY_TOKEN", env.get("HOOKWIRE_GATEWAY_TOKEN", "")
                ),
                write_admin_token_file=not admin,
            ),
            "lifecycle": LifecycleSettings(
                warn_before=seconds("HOOKWIRE_EXPIRY_WARNING", life.warn_before),
                retention=seconds("HOOKWIRE_RETENTION", life.retention),
                interval=seconds("HOOKWIRE_LIFECYCLE_INTERVAL", life.interval),
            ),
        }
        values.update(
            tls_cert=env.get("HOOKWIRE_TLS_CERT", "").strip(),
            tls_key=env.get("HOOKWIRE_TLS_KEY", "").strip(),
            tls_client_ca=env.get("HOOKWIRE_TLS_CLIENT_CA", "").strip(),
        )
        values.update({k: v for k, v in (overrides or {}).items() if v is not None})
        return cls(**values).checked()  # type: ignore[arg-type]

    def checked(self) -> BrokerConfig:
        """This config, or a SettingError for TLS settings that cannot run together."""
        if bool(self.tls_cert) != bool(self.tls_key):
            name = "HOOKWIRE_TLS_KEY" if self.tls_cert else "HOOKWIRE_TLS_CERT"
            raise SettingError(name, "TLS needs both a certificate and its key")
        if self.tls_client_ca and not self.tls_cert:
            raise SettingError("HOOKWIRE_TLS_CLIENT_CA", "mutual TLS needs HOOKWIRE_TLS_CERT")
        return self


def _secret_key(text: str) -> str:
    Sealer.from_text(text)  # ValueError saying what is wrong, never the key
    return text.strip()


def sqlite_path(database_url: str) -> str:
    """The file path of a `sqlite:///path` URL (`sqlite:///./x.db`, `sqlite:////abs/x.db`)."""
    parts = urlsplit(database_url)
    if parts.scheme != "sqlite":
        raise ValueError(f"unsupported database URL scheme {parts.scheme!r}")
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    return path or ":memory:"
