"""API tokens: who is calling, and as what.

A token reads `hwk_<id>_<secret>`: the recognisable prefix lets secret scanners find a
leaked one, the id finds its record without a scan, and only a SHA-256 of the secret is
stored. Tokens are shown once, at creation. Revocation takes effect on the next call:
authenticated tokens are cached in this process and a revoke drops them, and streams a
token opened are ended through `on_revoked`.

Deployments that provision credentials themselves name tokens in the environment
(`HOOKWIRE_ADMIN_TOKEN`, `HOOKWIRE_GATEWAY_TOKEN`); those are never stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from broker.clock import Clock, RandomSource
from broker.domain import ApiToken, Role
from broker.errors import InvalidArgument, NotFound
from broker.ids import IdFactory
from broker.pagination import cut_page, parse_page
from broker.patterns import matches, pattern_problem
from broker.storage.contract import Store
from broker.subscription_rules import check_text

TOKEN_PREFIX = "hwk_"
MIN_PROVISIONED_LENGTH = 32
_SECRET_BYTES = 32


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller."""

    token_id: str
    role: Role
    event_types: tuple[str, ...] = ()
    expire_time: float = 0.0

    def may_publish(self, event_type: str) -> bool:
        """A publisher limited to patterns may publish only the types they match."""
        return not self.event_types or any(matches(p, event_type) for p in self.event_types)


@dataclass(frozen=True, slots=True)
class AccessSettings:
    """Tokens given by the environment rather than stored (each maps to its role), and
    whether a first start with neither tokens nor a provisioned admin writes an admin
    token beside the SQLite database (`hookwire.local_token`)."""

    admin: str = field(default="", repr=False)
    gateway: str = field(default="", repr=False)
    write_admin_token_file: bool = False

    def principals(self) -> dict[str, Principal]:
        found = {}
        if self.admin:
            found[self.admin] = Principal("provisioned-admin", Role.ADMIN)
        if self.gateway:
            found[self.gateway] = Principal("provisioned-gateway", Role.GATEWAY)
        return found


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_provisioned(name: str, token: str) -> str:
    """A provisioned token must be long enough to be a secret."""
    if token and len(token) < MIN_PROVISIONED_LENGTH:
        raise ValueError(f"{name}: must be at least {MIN_PROVISIONED_LENGTH} characters")
    return token


@dataclass
class _Cache:
    by_bearer: dict[str, Principal] = field(default_factory=dict)

    def drop(self, token_id: str) -> None:
        for bearer in [b for b, p in self.by_bearer.items() if p.token_id == token_id]:
            del self.by_bearer[bearer]


class TokenManager:
    def __init__(
        self,
        store: Store,
        clock: Clock,
        rng: RandomSource,
        ids: IdFactory,
        settings: AccessSettings,
        on_revoked: Callable[[str], None] = lambda token_id: None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._rng = rng
        self._ids = ids
        self._provisioned = settings.principals()
        self._on_revoked = on_revoked
        self._cache = _Cache()

    async def create(
        self,
        role: Role | None,
        event_types: Sequence[str],
        description: str,
        expire_time: float,
    ) -> tuple[ApiToken, str]:
        """The stored token and its bearer string (returned here only)."""
        f = "token."
        if role is None:
            raise InvalidArgument(f + "role", "is required")
        for pattern in event_types:
            if problem := pattern_problem(pattern):
                raise InvalidArgument(f + "event_types", problem)
        if event_types and role is not Role.PUBLISHER:
            raise InvalidArgument(f + "event_types", "only limits publisher tokens")
        check_text(f + "description", description, 1024)
        now = self._clock.now()
        if expire_time and expire_time <= now:
            raise InvalidArgument(f + "expire_time", "must be in the future")
        token_id = self._ids.new("tok")
        raw = self._rng.token_bytes(_SECRET_BYTES)
        secret = base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")
        token = ApiToken(
            id=token_id,
            role=role,
            event_types=sorted(set(event_types)),
            description=description,
            secret_hash=_hash(secret),
            create_time=now,
            expire_time=expire_time,
        )
        await self._store.create_api_token(token)
        return token, f"{TOKEN_PREFIX}{token_id.removeprefix('tok_')}_{secret}"

    async def list_page(self, page_size: int, page_token: str) -> tuple[list[ApiToken], str]:
        page = parse_page(page_size, page_token, "tokens")
        rows = await self._store.list_api_tokens(page.after, page.size + 1)
        return cut_page(page, rows, lambda t: t.id)

    async def revoke(self, token_id: str) -> ApiToken:
        if not token_id or not await self._store.revoke_api_token(token_id, self._clock.now()):
            if token_id and await self._store.get_api_token(token_id) is not None:
                token = await self._store.get_api_token(token_id)
                assert token is not None
                return token  # already revoked: revoking again changes nothing
            raise NotFound("token", token_id)
        self._cache.drop(token_id)
        self._on_revoked(token_id)
        token = await self._store.get_api_token(token_id)
        assert token is not None
        return token

    async def any_stored(self) -> bool:
        return await self._store.count_api_tokens() > 0

    async def authenticate(self, bearer: str) -> Principal | None:
        """The caller a bearer string names, or None when it names no live token."""
        now = self._clock.now()
        principal = self._provisioned.get(bearer) or self._cache.by_bearer.get(bearer)
        if principal is None:
            principal = await self._lookup(bearer)
            if principal is None:
                return None
            self._cache.by_bearer[bearer] = principal
        if principal.expire_time and principal.expire_time <= now:
            return None
        return principal

    async def _lookup(self, bearer: str) -> Principal | None:
        if not bearer.startswith(TOKEN_PREFIX):
            return None
        key, sep, secret = bearer[len(TOKEN_PREFIX) :].partition("_")
        if not sep or not key or not secret:
            return None
        token = await self._store.get_api_token("tok_" + key)
        if token is None or not hmac.compare_digest(token.secret_hash, _hash(secret)):
            return None
        if not token.live(self._clock.now()):
            return None
        return Principal(token.id, token.role, tuple(token.event_types), token.expire_time)
