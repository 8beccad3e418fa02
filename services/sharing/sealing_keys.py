"""The vault's view of sharing's intake-sealing keys: follows rotations made by other processes."""

from __future__ import annotations

import os
import threading

from libs.common.crypto import hpke
from libs.common.crypto.errors import DecryptionFailed
from libs.common.crypto.hpke import HpkeKeyring
from services.sharing.keystore_hpke import HpkeKeyStore

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
