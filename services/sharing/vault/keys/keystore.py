"""Sharing's intake-sealing HPKE keys: a versioned 0600 file, and each process's view of it.

The active key seals new reports, every held key opens; rotations made by another replica or
the admin CLI are followed without a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
from libs.common.secretfile import create_private, locked, read_private, write_private

log = logging.getLogger(__name__)

_FORMAT = "lifeline-hpke-keys/v1"
_Stamp = tuple[int, int, int]


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


class SealingKeys:
    """Opens sealed reports with every held key; re-reads the key file when it changed.

    The admin API (on any replica) or an operator rotates or retires keys in the shared file;
    each replica notices on its next open or refresh, so no restart is needed.
    """

    def __init__(self, store: HpkeKeyStore) -> None:
        self.store = store
        self._lock = threading.Lock()
        self._stamp: _Stamp | None = self._stat()
        self._ring = store.keyring()

    def _stat(self) -> _Stamp | None:
        try:
            st = os.stat(self.store.path, follow_symlinks=False)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def refresh(self, *, force: bool = False) -> bool:
        """Reload if the file changed (or `force`); True when it did."""
        stamp = self._stat()
        with self._lock:
            if not force and stamp == self._stamp:
                return False
            self.store.reload()
            self._ring = self.store.keyring()
            self._stamp = stamp
            return True

    def keyring(self) -> HpkeKeyring:
        """Every private key that may still open a sealed report."""
        self.refresh()
        return self._ring

    def open(self, blob: bytes, info: bytes) -> tuple[bytes, str]:
        """(plaintext, hex key id) of a sealed report; DecryptionFailed if it does not open."""
        header = hpke.peek_header(blob)
        ring = self.keyring()
        if ring.get(header.key_id) is None:
            # Perhaps rotated a moment ago and the file's timestamp did not move yet.
            self.refresh(force=True)
            ring = self._ring
            if ring.get(header.key_id) is None:
                raise DecryptionFailed
        return hpke.open(ring, blob, info), header.key_id.hex()


async def follow(sealing: SealingKeys, stop: asyncio.Event) -> None:
    """Re-read the key file every few seconds until `stop` is set."""
    # Another replica or the CLI may rotate the sealing keys; the public well-known route
    # serves this process's copy, so it must not lag far behind the file.
    while not stop.is_set():
        try:
            sealing.refresh()
        except Exception as exc:
            log.warning("sealing keys not reloaded", extra={"reason": type(exc).__name__})
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=5.0)


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
