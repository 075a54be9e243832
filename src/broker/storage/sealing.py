"""Secrets sealed at rest: AES-256-GCM under keys held by id.

A sealed value reads `v1.<key id>.<base64 of nonce ‖ ciphertext>`. The row id and the column
name are the associated data, so a sealed value copied into another row or column does not
open. A key's id is derived from the key itself, so a key given in the environment keeps its
id across restarts and a different key can never pass for it.

Keys come from `HOOKWIRE_SECRET_KEY` (base64 of 32 bytes; several, comma-separated, newest
first) or from a key file beside the database (`<database>.secret-key`, mode 0600, one
`<id> <base64 key>` a line, newest first), made at the first start. New values are sealed
under the newest key; older keys stay readable so a rotation can re-seal rows while the
broker runs. A broker that meets a key id it does not know, or whose key file changed,
reads the key file again: that is how a running broker learns a key `hookwire keys rotate`
added.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import secrets
import threading
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from broker.storage.contract import StoreError

PREFIX = "v1."
KEY_BYTES = 32
NONCE_BYTES = 12
WRONG_KEY = "the secret key does not open this database's secrets"


class SealingError(StoreError):
    """A sealed value that the keys at hand cannot open (never says anything of the value)."""


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"hookwire-secret-key-id:" + key).hexdigest()[:12]


def decode_key(text: str) -> bytes:
    """The 32 bytes a base64 key encodes; ValueError saying what is wrong (never the key)."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("a key must be base64") from None
    if len(key) != KEY_BYTES:
        raise ValueError(f"a key must decode to {KEY_BYTES} bytes")
    return key


def new_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def is_sealed(value: str) -> bool:
    return value.startswith(PREFIX)


def sealed_key_id(value: str) -> str:
    """The key id a sealed value names ("" for a clear value)."""
    parts = value.split(".", 2)
    return parts[1] if len(parts) == 3 and is_sealed(value) else ""


class Sealer:
    """Seals and opens secrets under keys held by id, the first one newest."""

    def __init__(self, keys: Sequence[bytes], key_file: str | None = None) -> None:
        if not keys:
            raise ValueError("a sealer needs at least one key")
        self._key_file = key_file
        self._stamp = _stamp(key_file)
        self._lock = threading.Lock()
        self._set(keys)

    @classmethod
    def from_text(cls, text: str) -> Sealer:
        """Keys as `HOOKWIRE_SECRET_KEY` gives them: base64, comma-separated, newest first."""
        return cls([decode_key(part) for part in text.split(",") if part.strip()])

    def _set(self, keys: Sequence[bytes]) -> None:
        # One assignment, so the writer thread and the event loop never see half a change.
        self._keys = (key_id(keys[0]), {key_id(k): AESGCM(k) for k in keys})

    @property
    def key_id(self) -> str:
        """The id new values are sealed under."""
        self._reload_if_changed()
        return self._keys[0]

    def _cipher(self, key_id: str) -> AESGCM | None:
        cipher = self._keys[1].get(key_id)
        if cipher is None and self._reload():
            cipher = self._keys[1].get(key_id)
        return cipher

    def seal(self, value: str, row_id: str, column: str) -> str:
        """`value` sealed for (`row_id`, `column`); the empty string stays empty."""
        if not value:
            return value
        self._reload_if_changed()
        newest, ciphers = self._keys
        nonce = secrets.token_bytes(NONCE_BYTES)
        sealed = ciphers[newest].encrypt(nonce, value.encode(), _aad(row_id, column))
        return f"{PREFIX}{newest}.{base64.b64encode(nonce + sealed).decode('ascii')}"

    def open(self, value: str, row_id: str, column: str) -> str:
        """The clear value of a sealed one; a clear or empty value is returned as it is
        (rows written before sealing, until the store seals them at open)."""
        if not is_sealed(value):
            return value
        cipher = self._cipher(sealed_key_id(value))
        if cipher is None:
            raise SealingError(WRONG_KEY)
        try:
            blob = base64.b64decode(value.split(".", 2)[2], validate=True)
            clear = cipher.decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], _aad(row_id, column))
        except (binascii.Error, ValueError, InvalidTag):
            raise SealingError(WRONG_KEY) from None
        return clear.decode()

    def _reload_if_changed(self) -> None:
        if self._key_file is not None and _stamp(self._key_file) != self._stamp:
            self._reload()

    def _reload(self) -> bool:
        """Read the key file again; True if it gave keys."""
        if self._key_file is None:
            return False
        with self._lock:
            self._stamp = _stamp(self._key_file)
            try:
                keys = read_key_file(self._key_file)
            except (OSError, ValueError):
                return False  # keep the keys at hand; the values they open still open
            if not keys:
                return False
            self._set(keys)
            return True


def _aad(row_id: str, column: str) -> bytes:
    return f"{row_id}\x00{column}".encode()


def _stamp(path: str | None) -> tuple[float, int] | None:
    if path is None:
        return None
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_mtime, info.st_size)


def key_file_for(database_path: str) -> str:
    return f"{database_path}.secret-key"


def read_key_file(path: str) -> list[bytes]:
    """The keys of a key file, newest first ([] when there is no file)."""
    try:
        with open(path, encoding="ascii") as file:
            lines = [line.split() for line in file if line.strip()]
    except FileNotFoundError:
        return []
    keys = []
    for number, parts in enumerate(lines, start=1):
        if len(parts) != 2:
            raise ValueError(f"{path}: line {number} is not `<key id> <base64 key>`")
        try:
            key = decode_key(parts[1])
        except ValueError as exc:
            raise ValueError(f"{path}: line {number}: {exc}") from None
        if key_id(key) != parts[0]:
            raise ValueError(f"{path}: line {number}: the key id does not match the key")
        keys.append(key)
    return keys


def write_key_file(path: str, keys: Sequence[bytes]) -> None:
    """Replace the key file atomically (a running broker never reads half of it),
    readable by its owner only."""
    temporary = f"{path}.{os.getpid()}.tmp"
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        os.fchmod(file.fileno(), 0o600)
        for key in keys:
            file.write(f"{key_id(key)} {base64.b64encode(key).decode('ascii')}\n")
        file.flush()
        os.fsync(file.fileno())
    os.replace(temporary, path)


def key_file_sealer(database_path: str, create: bool) -> Sealer | None:
    """The sealer of the key file beside `database_path`; a new key file when there is
    none and `create`, else None."""
    path = key_file_for(database_path)
    keys = read_key_file(path)
    if not keys:
        if not create:
            return None
        keys = [new_key()]
        write_key_file(path, keys)
    return Sealer(keys, key_file=path)


def add_key(path: str) -> bytes:
    """Put a new key first in the key file at `path`, keeping the older ones readable."""
    key = new_key()
    write_key_file(path, [key, *read_key_file(path)])
    return key


CONNECTOR = "connector"


def hash_connector_token(token: str) -> str:
    """What is kept of a connector's URL credential: the URL is a bearer credential, so
    like an API token only its SHA-256 is stored, and the gateway compares hashes."""
    return hashlib.sha256(token.encode()).hexdigest()


def is_connector_hash(value: str) -> bool:
    """Whether a connector secret is already a hash (a token is 43 base64url characters)."""
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)
