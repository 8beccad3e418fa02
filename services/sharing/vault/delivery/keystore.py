"""Sharing's Ed25519 key that signs sealed deliveries: a 0600 key file, created on first run.

File: ``{"format": "lifeline-delivery-signing/v1", "keys": [{"private_key", "created_at"}]}``;
the first key signs, every key is published. Re-read whenever the file changed.
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
class DeliveryKey:
    """One delivery-signing key and when it was made."""

    key: SigningKey
    created_at: str


def _parse(doc: dict[str, Any]) -> tuple[DeliveryKey, ...]:
    keys = tuple(
        DeliveryKey(load_signing_key(k["private_key"]), str(k["created_at"])) for k in doc["keys"]
    )
    if not keys:
        raise ValueError("a delivery-signing key file needs a key")
    return keys


def _dump(keys: tuple[DeliveryKey, ...]) -> dict[str, Any]:
    return {
        "keys": [{"private_key": dump_signing_key(k.key), "created_at": k.created_at} for k in keys]
    }


_CODEC: KeyCodec[tuple[DeliveryKey, ...]] = KeyCodec("lifeline-delivery-signing/v1", _parse, _dump)


class DeliverySigner:
    """The keys that sign sealed deliveries, as the key file holds them now."""

    def __init__(self, path: Path, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self.path = path

        def first() -> tuple[DeliveryKey, ...]:
            created = clock.now().isoformat(timespec="seconds")
            return (DeliveryKey(generate_signing_key(), created),)

        self._file = KeyFile(path, _CODEC, initial=first)

    @classmethod
    def open(cls, path: Path, *, clock: Clock = SYSTEM_CLOCK) -> DeliverySigner:
        """Load the key file, creating it with one fresh key if it does not exist."""
        return cls(path, clock=clock)

    def active(self) -> SigningKey:
        """The key new deliveries are signed with (the first one)."""
        return self._file.current()[0].key

    def public_keys(self) -> list[dict[str, Any]]:
        """What partners pin and verify with (no private material)."""
        return [
            {
                "kid": b64u_encode(k.key.key_id),
                "public_key": k.key.verify_key.text,
                "fingerprint": k.key.verify_key.fingerprint(),
                "jwk": verify_key_to_jwk(k.key.verify_key),
            }
            for k in self._file.current()
        ]
