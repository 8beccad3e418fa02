"""The vault's view of sharing's intake-sealing keys: follows rotations made by other processes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading

from libs.common.crypto import hpke
from libs.common.crypto.errors import DecryptionFailed
from libs.common.crypto.hpke import HpkeKeyring
from services.sharing.keystore_hpke import HpkeKeyStore

log = logging.getLogger(__name__)

_Stamp = tuple[int, int, int]


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
