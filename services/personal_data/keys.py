"""Sealing personal data at rest: AES-256-GCM under a key ring whose first key seals and whose every
key opens, so a key is rotated by putting a new one first and letting the background re-sealing
(`services.personal_data.rotation`) move the rows before the old one is dropped.

A sealed value is text, `pd1.<key id>.<base64url(nonce ‖ ciphertext ‖ tag)>`: the key id travels
with the value. What the value is (the table and column, say `intake.applicant`) is bound in as
associated data, so a value copied into another column does not open there.

Exact-match search goes through a blind index: an HMAC-SHA256 of the normalised value under a key
of its own, which the ring never rotates (a new index key means computing every index again).

Rings come from the environment (`PERSONAL_DATA_KEYS`, `PERSONAL_DATA_INDEX_KEY`) or from files
named by `PERSONAL_DATA_KEYS_FILE` / `PERSONAL_DATA_INDEX_KEY_FILE` (a mounted secret), written
`id:base64,id:base64` with the sealing key first."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "pd1"
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class SealError(ValueError):
    """A ring that cannot be used as configured, or a value no key of the ring opens."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_key() -> str:
    """A fresh 256-bit key, base64 as a ring's text wants it."""
    return base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def ring_text(keys: Mapping[str, str]) -> str:
    return ",".join(f"{key_id}:{key}" for key_id, key in keys.items())


def parse_ring(text: str, what: str = "PERSONAL_DATA_KEYS") -> dict[str, bytes]:
    """`id:base64,id:base64` → {id: 32-byte key}, in order (the first seals)."""
    ring: dict[str, bytes] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key_id, sep, encoded = part.partition(":")
        if not sep or not _KEY_ID.match(key_id):
            raise SealError(f"{what}: each key is written `id:base64`, the id in letters, digits, - or _")
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except ValueError:
            raise SealError(f"{what}: key {key_id!r} is not base64") from None
        if len(key) != 32:
            raise SealError(f"{what}: key {key_id!r} must be 32 bytes (AES-256), not {len(key)}")
        if key_id in ring:
            raise SealError(f"{what}: key id {key_id!r} appears twice")
        ring[key_id] = key
    if not ring:
        raise SealError(f"{what}: no key given")
    return ring


def _normalise(kind: str, value: str) -> str:
    text = unicodedata.normalize("NFC", value).strip()
    if kind == "phone":
        digits = re.sub(r"[^\d+]", "", text)
        return "0" + digits[3:] if digits.startswith("+84") else digits
    if kind == "email":
        return text.lower()
    if kind == "name":
        return " ".join(text.casefold().split())
    return re.sub(r"\s+", "", text)


class KeyRing:
    def __init__(self, keys: Mapping[str, bytes], index_key: bytes | None = None) -> None:
        if not keys:
            raise SealError("a key ring needs at least one key")
        self._keys = {key_id: AESGCM(key) for key_id, key in keys.items()}
        self._sealing_key = keys[next(iter(keys))]
        self.active = next(iter(keys))
        self._index_key = index_key

    @classmethod
    def from_text(cls, keys: str, index_key: str | None = None) -> KeyRing:
        index = base64.b64decode(index_key, validate=True) if index_key else None
        if index is not None and len(index) < 32:
            raise SealError("PERSONAL_DATA_INDEX_KEY must be at least 32 bytes")
        return cls(parse_ring(keys), index)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None, *, prefix: str = "PERSONAL_DATA") -> KeyRing:
        env = os.environ if environ is None else environ

        def read(name: str) -> str | None:
            if value := env.get(name):
                return value
            if path := env.get(f"{name}_FILE"):
                return Path(path).read_text(encoding="utf-8").strip()
            return None

        keys = read(f"{prefix}_KEYS")
        if not keys:
            raise SealError(f"{prefix}_KEYS (or {prefix}_KEYS_FILE) is not set: personal data is never stored in clear")
        return cls.from_text(keys, read(f"{prefix}_INDEX_KEY"))

    @property
    def key_ids(self) -> list[str]:
        return list(self._keys)

    def seal(self, value: str | None, *, purpose: str) -> str | None:
        if value is None:
            return None
        nonce = secrets.token_bytes(12)
        sealed = self._keys[self.active].encrypt(nonce, value.encode("utf-8"), purpose.encode("utf-8"))
        return f"{PREFIX}.{self.active}.{_b64(nonce + sealed)}"

    def open(self, token: str | None, *, purpose: str) -> str | None:
        if token is None:
            return None
        key_id, data = self._split(token)
        aead = self._keys.get(key_id)
        if aead is None:
            raise SealError(f"sealed under key {key_id!r}, which the ring no longer holds")
        try:
            return aead.decrypt(data[:12], data[12:], purpose.encode("utf-8")).decode("utf-8")
        except Exception:
            raise SealError(f"a value sealed under key {key_id!r} does not open as {purpose!r}") from None

    def seal_json(self, value: Any, *, purpose: str) -> str:
        return self.seal(json.dumps(value, ensure_ascii=False, separators=(",", ":")), purpose=purpose) or ""

    def open_json(self, token: str, *, purpose: str) -> Any:
        return json.loads(self.open(token, purpose=purpose) or "null")

    def reseal(self, token: str | None, *, purpose: str) -> str | None:
        """The value under the sealing key (unchanged when it already is)."""
        if token is None or self.key_id(token) == self.active:
            return token
        return self.seal(self.open(token, purpose=purpose), purpose=purpose)

    @staticmethod
    def key_id(token: str) -> str:
        return KeyRing._split(token)[0]

    @staticmethod
    def is_sealed(value: object) -> bool:
        return isinstance(value, str) and value.startswith(PREFIX + ".") and value.count(".") >= 2

    @staticmethod
    def _split(token: str) -> tuple[str, bytes]:
        prefix, _, rest = token.partition(".")
        key_id, _, data = rest.partition(".")
        if prefix != PREFIX or not key_id or not data:
            raise SealError("not a sealed value")
        return key_id, _unb64(data)

    def digest(self, value: str, *, purpose: str) -> str:
        """A keyed hash of a value for a unique constraint over a sealed column (sealed values are
        randomised, so never equal): HMAC-SHA256 under a key derived from the sealing key for
        `purpose`. It changes when the sealing key does: good for telling a repeat apart within
        the service, not for finding a value (that is `index`)."""
        derived = hmac.new(self._sealing_key, f"motcua.digest:{purpose}".encode(), hashlib.sha256).digest()
        return hmac.new(derived, value.encode("utf-8"), hashlib.sha256).hexdigest()

    def index(self, value: str | None, *, kind: str) -> str | None:
        """The blind index of a value: equal for equal values after normalising (a phone's +84, an
        address's case, a name's spacing), and telling nothing of the value without the index key."""
        if value is None or not value.strip():
            return None
        if self._index_key is None:
            raise SealError("PERSONAL_DATA_INDEX_KEY is not set: this service keeps no searchable personal data")
        digest = hmac.new(self._index_key, f"{kind}:{_normalise(kind, value)}".encode(), hashlib.sha256)
        return digest.hexdigest()
