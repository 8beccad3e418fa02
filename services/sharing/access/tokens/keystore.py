"""Sharing's token-signing keyring in one 0600 file in the (shared) data directory.

Created atomically on first start; every replica re-reads it when it changes (one stat per
use), and the maintenance job rewrites it under an exclusive lock on a sidecar file. The data
directory is shared by all replicas (see deploy/k8s/sharing.yaml); which replica runs the job
is decided by a lease in the database (`tokens/maintenance.py`).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from libs.common.auth.jwk import b64url_decode, b64url_encode, ed25519_thumbprint
from libs.common.auth.keyring import KeyringError, KeyState, SigningKey, SigningKeyring
from libs.common.secretfile import create_private, locked, read_private, write_private

_FORMAT = "lifeline-signing-keys/1"


class KeystoreError(RuntimeError):
    """The keyring file cannot be read or trusted."""


class SigningKeystore:
    """Loads, caches and persists the `SigningKeyring`."""

    def __init__(
        self,
        path: Path,
        *,
        rotate_every: float = 7 * 86400,
        min_publish_seconds: float = 120.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self._rotate_every = rotate_every
        self._min_publish = min_publish_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._keyring: SigningKeyring | None = None
        self._stamp: tuple[int, int, int] | None = None
        # link()-based: replicas starting together on an empty data dir agree on one keyring.
        create_private(path, _dump(SigningKeyring.bootstrap(clock(), **self._options())))
        self._load()

    def keyring(self) -> SigningKeyring:
        """The current keyring, re-read if another process (replica, job) changed the file."""
        try:
            st = os.stat(self.path, follow_symlinks=False)
        except OSError as exc:
            raise KeystoreError(f"signing key file {self.path} is gone: {exc.strerror}") from None
        if (st.st_ino, st.st_mtime_ns, st.st_size) != self._stamp:
            self._load()
        assert self._keyring is not None
        return self._keyring

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public JWKS of the current keyring."""
        return self.keyring().jwks()

    def maintain(self) -> bool:
        """Publish a next key, rotate when due, prune retired keys; True if the file changed."""
        with locked(self.path):
            self._load()
            assert self._keyring is not None
            # Work on copies: a failed write must not leave this replica with unsaved keys.
            keyring = SigningKeyring(_copy(self._keyring), **self._options())
            if not keyring.maintain(self._clock(), rotate_every=self._rotate_every):
                return False
            write_private(self.path, _dump(keyring))
            self._load()
            return True

    def _options(self) -> dict[str, Any]:
        return {"min_publish_seconds": self._min_publish}

    def _load(self) -> None:
        st = os.stat(self.path, follow_symlinks=False)
        keyring = SigningKeyring(_parse(read_private(self.path), self.path), **self._options())
        with self._lock:
            self._keyring = keyring
            self._stamp = (st.st_ino, st.st_mtime_ns, st.st_size)


def _dump(keyring: SigningKeyring) -> bytes:
    keys = [_key_doc(k) for k in keyring.keys()]  # noqa: SIM118 - a method, not a dict
    return json.dumps({"format": _FORMAT, "keys": keys}, indent=2).encode()


def _key_doc(key: SigningKey) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "state": key.state.value,
        "published_at": key.published_at,
        "activated_at": key.activated_at,
        "retire_after": key.retire_after,
        "private_key": b64url_encode(key.private_key.private_bytes_raw()),
    }


def _parse(raw: bytes, path: Path) -> list[SigningKey]:
    try:
        document = json.loads(raw)
        keys = [_key_of(item) for item in document["keys"]]
        valid = document.get("format") == _FORMAT and all(
            # The kid is the key's thumbprint everywhere; a file that says otherwise was edited.
            ed25519_thumbprint(k.private_key.public_key()) == k.kid
            for k in keys
        )
        if valid:
            SigningKeyring(keys).active()  # exactly one active key, no duplicate kid
    except (ValueError, KeyError, TypeError, AttributeError, KeyringError) as exc:
        raise KeystoreError(
            f"{path} is not a valid signing keyring ({type(exc).__name__})"
        ) from None
    if not valid:
        raise KeystoreError(f"{path} is not a valid signing keyring")
    return keys


def _key_of(item: dict[str, Any]) -> SigningKey:
    return SigningKey(
        kid=item["kid"],
        private_key=Ed25519PrivateKey.from_private_bytes(b64url_decode(item["private_key"])),
        state=KeyState(item["state"]),
        published_at=float(item["published_at"]),
        activated_at=item["activated_at"],
        retire_after=item["retire_after"],
    )


def _copy(keyring: SigningKeyring) -> list[SigningKey]:
    return [
        SigningKey(k.kid, k.private_key, k.state, k.published_at, k.activated_at, k.retire_after)
        for k in keyring.keys()  # noqa: SIM118 - a method, not a dict
    ]
