"""Inbound source use cases: create, read, delete, rotate, and resolve for gateways.

Connectors get a generated credential of 256 random bits that travels in their URL
path: whoever holds the URL may post, as with Office 365 connectors. Like an API token,
only its SHA-256 is stored (and resolved to gateways, which hash what they are shown):
Create and Rotate hand the clear credential to their caller once.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace

from broker import source_rules as rules
from broker.clock import Clock, RandomSource
from broker.domain import Source
from broker.errors import InvalidArgument, NotFound
from broker.ids import IdFactory
from broker.pagination import cut_page, parse_page
from broker.patterns import type_problem
from broker.storage.contract import Store
from broker.storage.sealing import hash_connector_token
from broker.subscription_rules import check_text

CONNECTOR_TOKEN_BYTES = 32
DEFAULT_OVERLAP = 86400.0
MAX_OVERLAP = 30 * 86400.0


@dataclass(frozen=True, slots=True)
class Resolved:
    """What a gateway needs to verify a request to one source."""

    source: Source
    secrets: list[str]
    deleted: bool


class SourceManager:
    def __init__(self, store: Store, clock: Clock, rng: RandomSource, ids: IdFactory) -> None:
        self._store = store
        self._clock = clock
        self._rng = rng
        self._ids = ids

    def _connector_token(self) -> str:
        raw = self._rng.token_bytes(CONNECTOR_TOKEN_BYTES)
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    def _secret(self, field: str, provider: str, secret: str) -> str:
        if provider == rules.CONNECTOR:
            if secret:
                raise InvalidArgument(field, "is generated for connectors; leave it empty")
            return self._connector_token()
        return rules.check_source_secret(field, provider, secret)

    async def create(self, source: Source) -> Source:
        f = "source."
        provider = rules.check_provider(f + "provider", source.provider)
        prefix = source.event_type_prefix or provider
        if problem := type_problem(prefix):
            raise InvalidArgument(f + "event_type_prefix", problem)
        created = Source(
            id=self._ids.new("src"),
            provider=provider,
            secret=self._secret(f + "secret", provider, source.secret),
            event_type_prefix=prefix,
            options=rules.check_options(f + "options", provider, source.options),
            description=check_text(f + "description", source.description, 1024),
            create_time=self._clock.now(),
        )
        await self._store.create_source(_as_stored(created))
        return created

    async def _live(self, source_id: str) -> Source:
        source = await self._store.get_source(source_id) if source_id else None
        if source is None or source.delete_time:
            raise NotFound("source", source_id)
        return source

    async def get(self, source_id: str) -> Source:
        return await self._live(source_id)

    async def list_page(
        self, page_size: int, page_token: str, provider: str
    ) -> tuple[list[Source], str]:
        page = parse_page(page_size, page_token, "sources", provider)
        rows = await self._store.list_sources(page.after, page.size + 1, provider)
        return cut_page(page, rows, lambda s: s.id)

    async def delete(self, source_id: str) -> None:
        if not source_id or not await self._store.delete_source(source_id, self._clock.now()):
            raise NotFound("source", source_id)

    async def rotate_secret(self, source_id: str, secret: str, overlap: float | None) -> Source:
        source = await self._live(source_id)
        if overlap is None:
            overlap = DEFAULT_OVERLAP
        if not 0 <= overlap <= MAX_OVERLAP:
            raise InvalidArgument("overlap", "must be between 0 and 30 days")
        new_secret = self._secret("secret", source.provider, secret)
        expire = self._clock.now() + overlap
        stored_secret = _as_stored(replace(source, secret=new_secret)).secret
        if not await self._store.rotate_source_secret(source_id, stored_secret, expire):
            raise NotFound("source", source_id)
        return replace(await self._live(source_id), secret=new_secret)

    async def resolve(self, source_id: str) -> Resolved:
        source = await self._store.get_source(source_id) if source_id else None
        if source is None:
            raise NotFound("source", source_id)
        if source.delete_time:
            return Resolved(source, [], deleted=True)
        return Resolved(source, source.valid_secrets(self._clock.now()), deleted=False)


def _as_stored(source: Source) -> Source:
    """The source as the store keeps it: a connector's credential as its hash."""
    if source.provider != rules.CONNECTOR:
        return source
    return replace(source, secret=hash_connector_token(source.secret))
