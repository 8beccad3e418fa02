"""Sharing's intake-sealing HPKE keys: a versioned 0600 key file, re-read whenever it changed.

The active key seals new reports, every held key opens; a rotation made by another replica or
the admin CLI is seen at the next use (one `stat`), without a restart or a polling task.
File: ``{"format": "lifeline-hpke-keys/v1", "keys": [{"private_key", "state", "created_at"}]}``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.crypto import hpke
from libs.common.crypto.errors import DecryptionFailed
from libs.common.crypto.hpke import HpkeKeyring
from libs.common.crypto.hpke_keys import (
    DEFAULT_SUITE,
    HpkePrivateKey,
    HpkeSuite,
    dump_private_key,
    dump_public_key,
    generate_private_key,
    load_private_key,
)
from libs.common.keyfile import KeyCodec, KeyFile

ACTIVE, RETIRING = "active", "retiring"


@dataclass(frozen=True)
class StoredKey:
    """One sealing key version: `active` seals new reports, `retiring` only opens old ones."""

    key: HpkePrivateKey
    state: str
    created_at: str

    @property
    def kid(self) -> str:
        """The key id, hex (what a sealed blob's header names)."""
        return self.key.key_id.hex()

    def public_view(self) -> dict[str, str]:
        """What intake may learn about this key."""
        public = self.key.public_key
        return {
            "kid": self.kid,
            "public_key": dump_public_key(public),
            "fingerprint": public.fingerprint(),
            "state": self.state,
        }


@dataclass(frozen=True)
class SealingKeySet:
    """The keys of the file, active first, and the keyring that opens with all of them."""

    keys: tuple[StoredKey, ...]
    ring: HpkeKeyring = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if [k.state for k in self.keys].count(ACTIVE) != 1:
            raise ValueError("a sealing key file needs exactly one active key")
        if any(k.state not in (ACTIVE, RETIRING) for k in self.keys):
            raise ValueError("unknown sealing key state")
        object.__setattr__(self, "ring", HpkeKeyring(k.key for k in self.keys))

    def active(self) -> StoredKey:
        """The key intake seals new reports to."""
        return next(k for k in self.keys if k.state == ACTIVE)


def _parse(doc: dict[str, Any]) -> SealingKeySet:
    return SealingKeySet(
        tuple(
            StoredKey(load_private_key(k["private_key"]), str(k["state"]), str(k["created_at"]))
            for k in doc["keys"]
        )
    )


def _dump(keys: SealingKeySet) -> dict[str, Any]:
    return {
        "keys": [
            {"private_key": dump_private_key(k.key), "state": k.state, "created_at": k.created_at}
            for k in keys.keys
        ]
    }


_CODEC: KeyCodec[SealingKeySet] = KeyCodec("lifeline-hpke-keys/v1", _parse, _dump)


class HpkeKeyStore:
    """The sealing keys of one sharing deployment (the file is created on first run)."""

    def __init__(
        self, path: Path, *, suite: HpkeSuite = DEFAULT_SUITE, clock: Clock = SYSTEM_CLOCK
    ) -> None:
        self.path = path
        self._clock = clock
        self._file = KeyFile(path, _CODEC, initial=lambda: SealingKeySet((self._new(suite),)))

    @classmethod
    def open(
        cls, path: Path, *, suite: HpkeSuite = DEFAULT_SUITE, clock: Clock = SYSTEM_CLOCK
    ) -> HpkeKeyStore:
        """Open the key file, creating it with one active key if it does not exist."""
        return cls(path, suite=suite, clock=clock)

    def _new(self, suite: HpkeSuite) -> StoredKey:
        created = self._clock.now().isoformat(timespec="seconds")
        return StoredKey(generate_private_key(suite), ACTIVE, created)

    def held(self) -> tuple[StoredKey, ...]:
        """Every held key, in the file's order."""
        return self._file.current().keys

    def active(self) -> StoredKey:
        """The key intake seals new reports to."""
        return self._file.current().active()

    def keyring(self) -> HpkeKeyring:
        """Every key that may still open a sealed report."""
        return self._file.current().ring

    def public_keys(self) -> list[dict[str, str]]:
        """The public halves, active first."""
        return [k.public_view() for k in sorted(self.held(), key=lambda k: k.state != ACTIVE)]

    def unseal(self, blob: bytes, info: bytes) -> tuple[bytes, str]:
        """(plaintext, hex key id) of a sealed report; DecryptionFailed if it does not open."""
        header = hpke.peek_header(blob)
        ring = self.keyring()
        if ring.get(header.key_id) is None:
            # Perhaps rotated a moment ago and the file's timestamp did not move yet.
            ring = self._file.reload().ring
            if ring.get(header.key_id) is None:
                raise DecryptionFailed
        return hpke.open(ring, blob, info), header.key_id.hex()

    def rotate(self, suite: HpkeSuite = DEFAULT_SUITE) -> StoredKey:
        """Add a new active key; the old one keeps opening what was sealed to it."""
        fresh = self._new(suite)
        self._file.update(lambda keys: SealingKeySet((fresh, *_retiring(keys))))
        return fresh

    def retire(self, kid: str) -> None:
        """Forget a retiring key once nothing sealed to it is left to consume."""

        def drop(keys: SealingKeySet) -> SealingKeySet:
            remaining = tuple(k for k in keys.keys if not (k.kid == kid and k.state == RETIRING))
            if len(remaining) == len(keys.keys):
                raise KeyError("no retiring key with that id")
            return SealingKeySet(remaining)

        self._file.update(drop)


def _retiring(keys: SealingKeySet) -> tuple[StoredKey, ...]:
    return tuple(StoredKey(k.key, RETIRING, k.created_at) for k in keys.keys)
