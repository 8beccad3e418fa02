"""The default KEK provider: versioned 256-bit KEKs in one local JSON file, mode 0600.

File: ``{"format": "lifeline-kek/1", "versions": [{"version", "state", "primary",
"created_at", "key"}]}`` with `key` base64url, or null once retired (material destroyed).
Wrapped ciphertext: ``nonce (12) || AES-256-GCM(kek, data_key) + tag``, with AAD binding the
KEK version and the caller's AAD. Random nonces are safe for up to ~2**32 wraps per version.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from libs.common.crypto.encoding import b64u_decode, b64u_encode, encode_context
from libs.common.crypto.errors import DecryptionFailed, KekVersionUnavailable, KeyStoreError
from libs.common.crypto.kek import KekState, KekVersionInfo, WrappedKey
from libs.common.keyfile import KeyCodec, KeyFile

_KEY_LEN = 32
_NONCE_LEN = 12


class _Version:
    __slots__ = ("aead", "created_at", "key", "primary", "state", "version")

    def __init__(
        self, version: int, state: KekState, primary: bool, created_at: str, key: bytes | None
    ) -> None:
        self.version, self.state, self.primary = version, state, primary
        self.created_at, self.key = created_at, key
        self.aead = AESGCM(key) if key is not None else None


Versions = dict[int, _Version]


class LocalFileKekProvider:
    """KEKs in a local 0600 file, created atomically on first use; refuses looser permissions."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        self._path = Path(path)
        try:
            # Every use re-reads the file if it changed (one stat, ~1 us), so that a promote or
            # retire done by the admin CLI in another process takes effect here at once;
            # wrapping under a stale primary could write data keys under a version that is
            # about to be retired.
            self._file = KeyFile(self._path, _CODEC, initial=_first if create else None)
        except OSError as exc:
            raise KeyStoreError(f"cannot create KEK file {self._path}: {exc.strerror}") from None

    def __repr__(self) -> str:
        return f"LocalFileKekProvider({str(self._path)!r})"

    # --- KekProvider -------------------------------------------------------------------------

    def wrap(self, data_key: bytes, aad: bytes) -> WrappedKey:
        """Wrap `data_key` under the primary version."""
        if len(data_key) != _KEY_LEN:
            raise ValueError("data keys are 32 bytes")
        v = next(v for v in self._file.current().values() if v.primary)
        assert v.aead is not None  # the primary is never retired (checked on load and retire)
        nonce = os.urandom(_NONCE_LEN)
        ct = v.aead.encrypt(nonce, data_key, _bound_aad(v.version, aad))
        return WrappedKey(v.version, nonce + ct)

    def unwrap(self, wrapped: WrappedKey, aad: bytes) -> bytes:
        """Unwrap under a staged or active version; retired or unknown versions fail."""
        v = self._file.current().get(wrapped.kek_version)
        if v is None or v.aead is None:
            raise KekVersionUnavailable
        ct = wrapped.ciphertext
        if len(ct) != _NONCE_LEN + _KEY_LEN + 16:
            raise DecryptionFailed
        try:
            return v.aead.decrypt(ct[:_NONCE_LEN], ct[_NONCE_LEN:], _bound_aad(v.version, aad))
        except InvalidTag:
            raise DecryptionFailed from None

    def versions(self) -> list[KekVersionInfo]:
        """All versions, oldest first (no key material)."""
        return [
            KekVersionInfo(v.version, v.state, v.primary, v.created_at)
            for v in sorted(self._file.current().values(), key=lambda v: v.version)
        ]

    def stage(self) -> int:
        """Add a new staged version with a fresh random KEK."""
        staged: list[int] = []

        def add(versions: Versions) -> Versions:
            number = max(versions, default=0) + 1
            versions[number] = _Version(number, KekState.STAGED, False, _now(), _new_key())
            staged.append(number)
            return versions

        self._file.update(add)
        return staged[0]

    def promote(self, version: int) -> None:
        """Make `version` the primary; the former primary stays active for unwrapping."""

        def promote(versions: Versions) -> Versions:
            target = versions.get(version)
            if target is None or target.state is KekState.RETIRED:
                raise KeyStoreError(f"KEK version {version} cannot be promoted")
            for v in versions.values():
                v.primary = False
            target.state, target.primary = KekState.ACTIVE, True
            return versions

        self._file.update(promote)

    def retire(self, version: int) -> None:
        """Destroy a non-primary version's material; only after the rewrap job has drained it."""

        def retire(versions: Versions) -> Versions:
            target = versions.get(version)
            if target is None or target.primary:
                raise KeyStoreError(f"KEK version {version} cannot be retired")
            versions[version] = _Version(version, KekState.RETIRED, False, target.created_at, None)
            return versions

        self._file.update(retire)


def _new_key() -> bytes:
    return os.urandom(_KEY_LEN)


def _first() -> Versions:
    return {1: _Version(1, KekState.ACTIVE, True, _now(), _new_key())}


def _bound_aad(version: int, aad: bytes) -> bytes:
    return encode_context("lifeline/kek-wrap/v1", kek_version=version, aad=aad)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _dump(versions: Versions) -> dict[str, Any]:
    return {
        "versions": [
            {
                "version": v.version,
                "state": v.state.value,
                "primary": v.primary,
                "created_at": v.created_at,
                "key": b64u_encode(v.key) if v.key is not None else None,
            }
            for v in sorted(versions.values(), key=lambda v: v.version)
        ]
    }


def _parse(doc: dict[str, Any]) -> Versions:
    versions: Versions = {}
    for item in doc["versions"]:
        number, state, primary = int(item["version"]), KekState(item["state"]), item["primary"]
        key = None if item["key"] is None else b64u_decode(item["key"])
        if number < 1 or number in versions or not isinstance(primary, bool):
            raise ValueError("duplicate or invalid version")
        if (key is None) != (state is KekState.RETIRED) or (key and len(key) != _KEY_LEN):
            raise ValueError("key material does not match the state")
        versions[number] = _Version(number, state, primary, str(item["created_at"]), key)
    primaries = [v for v in versions.values() if v.primary]
    if len(primaries) != 1 or primaries[0].state is not KekState.ACTIVE:
        raise KeyStoreError("a KEK file must have exactly one primary, active version")
    return versions


_CODEC: KeyCodec[Versions] = KeyCodec("lifeline-kek/1", _parse, _dump)
