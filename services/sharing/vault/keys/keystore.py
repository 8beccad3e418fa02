"""Sharing's intake-sealing HPKE keys: a versioned 0600 file; the active key seals, all open."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
from libs.common.secretfile import create_private, locked, read_private, write_private

_FORMAT = "lifeline-hpke-keys/v1"


@dataclass(frozen=True)
class StoredKey:
    """One sealing key version: `active` seals new reports, `retiring` only opens old ones."""

    key: HpkePrivateKey
    state: str
    created_at: str

    def public_view(self) -> dict[str, str]:
        """What intake may learn about this key."""
        public = self.key.public_key
        return {
            "kid": self.key.key_id.hex(),
            "public_key": dump_public_key(public),
            "fingerprint": public.fingerprint(),
            "state": self.state,
        }


class HpkeKeyStore:
    """Loads (and on first run creates) the sealing keys of one sharing deployment."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.keys: list[StoredKey] = []

    @classmethod
    def open(cls, path: Path, *, suite: HpkeSuite = DEFAULT_SUITE) -> HpkeKeyStore:
        """Open the key file, creating it with one active key if it does not exist."""
        create_private(path, _dump([StoredKey(generate_private_key(suite), "active", _now())]))
        store = cls(path)
        store.reload()
        return store

    def reload(self) -> None:
        """Re-read the file (another replica or the admin CLI may have rotated)."""
        doc = json.loads(read_private(self.path))
        if doc.get("format") != _FORMAT:
            raise ValueError(f"{self.path} is not a Lifeline HPKE key file")
        self.keys = [
            StoredKey(load_private_key(k["private_key"]), k["state"], k["created_at"])
            for k in doc["keys"]
        ]

    def active(self) -> StoredKey:
        """The key intake seals new reports to."""
        return next(k for k in self.keys if k.state == "active")

    def keyring(self) -> HpkeKeyring:
        """Every key that may still open a sealed report."""
        return HpkeKeyring(k.key for k in self.keys)

    def public_keys(self) -> list[dict[str, str]]:
        """The public halves, active first."""
        return [k.public_view() for k in sorted(self.keys, key=lambda k: k.state != "active")]

    def rotate(self, suite: HpkeSuite = DEFAULT_SUITE) -> StoredKey:
        """Add a new active key; the old one keeps opening what was sealed to it."""
        with locked(self.path):
            self.reload()
            fresh = StoredKey(generate_private_key(suite), "active", _now())
            kept = [StoredKey(k.key, "retiring", k.created_at) for k in self.keys]
            write_private(self.path, _dump([fresh, *kept]))
            self.reload()
        return fresh

    def retire(self, kid: str) -> None:
        """Forget a retiring key once nothing sealed to it is left to consume."""
        with locked(self.path):
            self.reload()
            remaining = [
                k for k in self.keys if not (k.key.key_id.hex() == kid and k.state == "retiring")
            ]
            if len(remaining) == len(self.keys):
                raise KeyError("no retiring key with that id")
            write_private(self.path, _dump(remaining))
            self.reload()


def _dump(keys: list[StoredKey]) -> bytes:
    doc: dict[str, Any] = {
        "format": _FORMAT,
        "keys": [
            {"private_key": dump_private_key(k.key), "state": k.state, "created_at": k.created_at}
            for k in keys
        ],
    }
    return json.dumps(doc, indent=2).encode()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
