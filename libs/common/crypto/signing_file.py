"""A service's own Ed25519 signing keys in a 0600 key file, created on first run.

File: ``{"format": <the store's format>, "keys": [{"private_key", "created_at"}]}``; the first
key signs, every key is published. One class for every such store (delivery signing, audit
checkpoints), each with a format name of its own so one file is never taken for another.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.crypto.encoding import b64u_encode
from libs.common.crypto.signing import (
    SigningKey,
    dump_signing_key,
    generate_signing_key,
    load_signing_key,
    verify_key_to_jwk,
)
from libs.common.keyfile import KeyCodec, KeyFile


@dataclass(frozen=True)
class StoredSigningKey:
    """One signing key and when it was made."""

    key: SigningKey
    created_at: str


def _parse(doc: dict[str, Any]) -> tuple[StoredSigningKey, ...]:
    keys = tuple(
        StoredSigningKey(load_signing_key(k["private_key"]), str(k["created_at"]))
        for k in doc["keys"]
    )
    if not keys:
        raise ValueError("a signing key file needs a key")
    return keys


def _dump(keys: tuple[StoredSigningKey, ...]) -> dict[str, Any]:
    return {
        "keys": [{"private_key": dump_signing_key(k.key), "created_at": k.created_at} for k in keys]
    }


class SigningKeyFile:
    """The keys of one signing purpose, as the key file holds them now."""

    def __init__(self, path: Path, *, format: str, clock: Clock = SYSTEM_CLOCK) -> None:
        self.path = path

        def first() -> tuple[StoredSigningKey, ...]:
            created = clock.now().isoformat(timespec="seconds")
            return (StoredSigningKey(generate_signing_key(), created),)

        self._file = KeyFile(path, KeyCodec(format, _parse, _dump), initial=first)

    def active(self) -> SigningKey:
        """The key new signatures are made with (the first one)."""
        return self._file.current()[0].key

    def public_keys(self) -> list[dict[str, Any]]:
        """What partners pin and verify with (no private material)."""
        return [public_key_info(k.key) for k in self._file.current()]


def public_key_info(key: SigningKey) -> dict[str, Any]:
    """One key's public half as published: kid, text form, fingerprint and JWK."""
    return {
        "kid": b64u_encode(key.key_id),
        "public_key": key.verify_key.text,
        "fingerprint": key.verify_key.fingerprint(),
        "jwk": verify_key_to_jwk(key.verify_key),
    }
