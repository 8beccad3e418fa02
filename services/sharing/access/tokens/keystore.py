"""Sharing's token-signing keyring in one 0600 key file in the (shared) data directory.

Created atomically on first start; every replica re-reads it when it changes (one stat per
use), and the maintenance job rewrites it under an exclusive lock on a sidecar file. The data
directory is shared by all replicas (see deploy/k8s/sharing.yaml); which replica runs the job
is decided by a lease in the database (`tokens/maintenance.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from libs.common.auth.jwk import b64url_decode, b64url_encode, ed25519_thumbprint
from libs.common.auth.keyring import KeyringError, KeyState, SigningKey, SigningKeyring
from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.keyfile import KeyCodec, KeyFile, KeyFileError

_FORMAT = "lifeline-signing-keys/1"

# The keyring file cannot be read or trusted (missing, unsafe, edited, of another format).
KeystoreError = KeyFileError


class _Unchanged(Exception):
    """Maintenance had nothing to do: the file is left as it is (no write, no re-read)."""


class SigningKeystore:
    """The `SigningKeyring` as the key file holds it now."""

    def __init__(
        self,
        path: Path,
        *,
        rotate_every: float = 7 * 86400,
        min_publish_seconds: float = 120.0,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.path = path
        self._rotate_every = rotate_every
        self._clock = clock

        def parse(doc: dict[str, Any]) -> SigningKeyring:
            return SigningKeyring(_keys(doc), min_publish_seconds=min_publish_seconds)

        self._file = KeyFile(
            path,
            KeyCodec(_FORMAT, parse, _dump),
            # Replicas starting together on an empty data dir agree on one keyring.
            initial=lambda: SigningKeyring.bootstrap(
                clock.time(), min_publish_seconds=min_publish_seconds
            ),
        )

    def keyring(self) -> SigningKeyring:
        """The current keyring, re-read if another process (replica, job) changed the file."""
        return self._file.current()

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public JWKS of the current keyring."""
        return self.keyring().jwks()

    def maintain(self) -> bool:
        """Publish a next key, rotate when due, prune retired keys; True if the file changed."""

        def change(keyring: SigningKeyring) -> SigningKeyring:
            # A freshly parsed copy: a failed write leaves this replica with the file's keys.
            if not keyring.maintain(self._clock.time(), rotate_every=self._rotate_every):
                raise _Unchanged
            return keyring

        try:
            self._file.update(change)
        except _Unchanged:
            return False
        return True


def _dump(keyring: SigningKeyring) -> dict[str, Any]:
    return {"keys": [_key_doc(k) for k in keyring.keys()]}  # noqa: SIM118 - a method


def _key_doc(key: SigningKey) -> dict[str, Any]:
    return {
        "kid": key.kid,
        "state": key.state.value,
        "published_at": key.published_at,
        "activated_at": key.activated_at,
        "retire_after": key.retire_after,
        "private_key": b64url_encode(key.private_key.private_bytes_raw()),
    }


def _keys(doc: dict[str, Any]) -> list[SigningKey]:
    keys = [_key_of(item) for item in doc["keys"]]
    # The kid is the key's thumbprint everywhere; a file that says otherwise was edited.
    if any(ed25519_thumbprint(k.private_key.public_key()) != k.kid for k in keys):
        raise KeystoreError("a signing key's kid is not its thumbprint")
    try:
        SigningKeyring(keys).active()  # exactly one active key, no duplicate kid
    except KeyringError as exc:
        raise KeystoreError(f"not a valid signing keyring ({exc})") from None
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
