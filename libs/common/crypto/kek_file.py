"""The default KEK provider: versioned 256-bit KEKs in one local JSON file, mode 0600.

File: ``{"format": "lifeline-kek/1", "versions": [{"version", "state", "primary",
"created_at", "key"}]}`` with `key` base64url, or null once retired (material destroyed).
Wrapped ciphertext: ``nonce (12) || AES-256-GCM(kek, data_key) + tag``, with AAD binding the
KEK version and the caller's AAD. Random nonces are safe for up to ~2**32 wraps per version.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from libs.common.crypto.encoding import b64u_decode, b64u_encode, encode_context
from libs.common.crypto.errors import (
    DecryptionFailed,
    InvalidKey,
    KekVersionUnavailable,
    KeyStoreError,
)
from libs.common.crypto.kek import KekState, KekVersionInfo, WrappedKey

try:  # POSIX only; without it, concurrent admin changes from two processes are not serialised.
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_FORMAT = "lifeline-kek/1"
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

    def copy(self) -> _Version:
        return _Version(self.version, self.state, self.primary, self.created_at, self.key)


class LocalFileKekProvider:
    """KEKs in a local 0600 file, created atomically on first use; refuses looser permissions."""

    def __init__(self, path: str | os.PathLike[str], *, create: bool = True) -> None:
        self._path = Path(path)
        self._lock = threading.RLock()
        self._versions: dict[int, _Version] = {}
        self._stamp: tuple[int, int, int] | None = None
        try:
            if create and not self._path.exists():
                self._create()
        except OSError as exc:
            raise KeyStoreError(f"cannot create KEK file {self._path}: {exc.strerror}") from None
        self._load()

    def __repr__(self) -> str:
        return f"LocalFileKekProvider({str(self._path)!r})"

    # --- KekProvider -------------------------------------------------------------------------

    def wrap(self, data_key: bytes, aad: bytes) -> WrappedKey:
        """Wrap `data_key` under the primary version."""
        if len(data_key) != _KEY_LEN:
            raise ValueError("data keys are 32 bytes")
        # A stat per call (~1 us) so that a promote or retire done by the admin CLI in another
        # process takes effect here at once; wrapping under a stale primary could otherwise
        # write data keys under a version that is about to be retired.
        self._reload_if_changed()
        with self._lock:
            v = next(v for v in self._versions.values() if v.primary)
        assert v.aead is not None  # the primary is never retired (checked on load and retire)
        nonce = os.urandom(_NONCE_LEN)
        ct = v.aead.encrypt(nonce, data_key, _bound_aad(v.version, aad))
        return WrappedKey(v.version, nonce + ct)

    def unwrap(self, wrapped: WrappedKey, aad: bytes) -> bytes:
        """Unwrap under a staged or active version; retired or unknown versions fail."""
        self._reload_if_changed()  # see wrap(): a retire elsewhere must apply here too
        v = self._usable(wrapped.kek_version)
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
        self._reload_if_changed()
        with self._lock:
            return [
                KekVersionInfo(v.version, v.state, v.primary, v.created_at)
                for v in sorted(self._versions.values(), key=lambda v: v.version)
            ]

    def stage(self) -> int:
        """Add a new staged version with a fresh random KEK."""
        with self._mutate() as versions:
            number = max(versions, default=0) + 1
            versions[number] = _Version(
                number, KekState.STAGED, False, _now(), os.urandom(_KEY_LEN)
            )
            return number

    def promote(self, version: int) -> None:
        """Make `version` the primary; the former primary stays active for unwrapping."""
        with self._mutate() as versions:
            target = versions.get(version)
            if target is None or target.state is KekState.RETIRED:
                raise KeyStoreError(f"KEK version {version} cannot be promoted")
            for v in versions.values():
                v.primary = False
            target.state, target.primary = KekState.ACTIVE, True

    def retire(self, version: int) -> None:
        """Destroy a non-primary version's material; only after the rewrap job has drained it."""
        with self._mutate() as versions:
            target = versions.get(version)
            if target is None or target.primary:
                raise KeyStoreError(f"KEK version {version} cannot be retired")
            target.state, target.key, target.aead = KekState.RETIRED, None, None

    # --- file handling -----------------------------------------------------------------------

    def _usable(self, version: int) -> _Version | None:
        with self._lock:
            v = self._versions.get(version)
        return v if v is not None and v.state is not KekState.RETIRED else None

    def _create(self) -> None:
        # A fresh data directory is private to the service user; an existing one is left as is.
        self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        first = _Version(1, KekState.ACTIVE, True, _now(), os.urandom(_KEY_LEN))
        tmp = self._write_temp({1: first})
        try:
            # link() fails if another process created the file meanwhile, so a concurrent first
            # run never overwrites (and thereby destroys) a KEK someone already used.
            os.link(tmp, self._path)
            _fsync_dir(self._path.parent)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()

    def _load(self) -> None:
        try:
            fd = os.open(self._path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError as exc:
            raise KeyStoreError(f"cannot open KEK file {self._path}: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            _check_mode(self._path, st)
            raw = fh.read()
        versions = _parse(raw, self._path)
        with self._lock:
            self._versions = versions
            self._stamp = (st.st_ino, st.st_mtime_ns, st.st_size)

    def _reload_if_changed(self) -> None:
        try:
            st = os.stat(self._path, follow_symlinks=False)
        except OSError as exc:
            # Wrapping on with keys that exist only in memory would write data that is
            # unreadable after the next restart; stop instead.
            raise KeyStoreError(f"KEK file {self._path} is gone: {exc.strerror}") from None
        if (st.st_ino, st.st_mtime_ns, st.st_size) != self._stamp:
            self._load()

    @contextlib.contextmanager
    def _mutate(self) -> Iterator[dict[int, _Version]]:
        # Read-modify-write under an exclusive lock on a sidecar file (the key file itself is
        # replaced on every write), reloading first so changes from other processes survive.
        lock_path = self._path.with_name(self._path.name + ".lock")
        lock_fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if fcntl is not None:
                fcntl.flock(lock_fd, fcntl.LOCK_EX)
            with self._lock:
                self._load()
                # Work on copies: a refused change must leave the loaded state untouched.
                versions = {n: v.copy() for n, v in self._versions.items()}
                yield versions
                _check_primary(versions, self._path)
                tmp = self._write_temp(versions)
                os.replace(tmp, self._path)
                _fsync_dir(self._path.parent)
                self._load()
        finally:
            os.close(lock_fd)

    def _write_temp(self, versions: dict[int, _Version]) -> Path:
        doc = {
            "format": _FORMAT,
            "versions": [
                {
                    "version": v.version,
                    "state": v.state.value,
                    "primary": v.primary,
                    "created_at": v.created_at,
                    "key": b64u_encode(v.key) if v.key is not None else None,
                }
                for v in sorted(versions.values(), key=lambda v: v.version)
            ],
        }
        tmp = self._path.with_name(f".{self._path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
        fd = os.open(
            tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600
        )
        with os.fdopen(fd, "wb") as fh:
            os.fchmod(fh.fileno(), 0o600)  # exact mode, whatever the umask
            fh.write(json.dumps(doc, indent=2).encode())
            fh.flush()
            os.fsync(fh.fileno())
        return tmp


def _bound_aad(version: int, aad: bytes) -> bytes:
    return encode_context("lifeline/kek-wrap/v1", kek_version=version, aad=aad)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform/filesystem allows it
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _check_mode(path: Path, st: os.stat_result) -> None:
    if not stat.S_ISREG(st.st_mode):
        raise KeyStoreError(f"KEK file {path} is not a regular file")
    if st.st_mode & 0o077:
        raise KeyStoreError(
            f"KEK file {path} has mode {stat.S_IMODE(st.st_mode):04o}; it must be 0600 or stricter"
        )
    if hasattr(os, "geteuid") and st.st_uid != os.geteuid():
        raise KeyStoreError(f"KEK file {path} is not owned by the service user")


def _parse(raw: bytes, path: Path) -> dict[int, _Version]:
    try:
        doc: Any = json.loads(raw)
        if doc.get("format") != _FORMAT:
            raise KeyStoreError(f"KEK file {path} has an unknown format")
        versions: dict[int, _Version] = {}
        for item in doc["versions"]:
            number, state, primary = int(item["version"]), KekState(item["state"]), item["primary"]
            key = None if item["key"] is None else b64u_decode(item["key"])
            if number < 1 or number in versions or not isinstance(primary, bool):
                raise KeyStoreError(f"KEK file {path} is corrupt")
            if (key is None) != (state is KekState.RETIRED) or (key and len(key) != _KEY_LEN):
                raise KeyStoreError(f"KEK file {path} is corrupt")
            versions[number] = _Version(number, state, primary, str(item["created_at"]), key)
    except (ValueError, KeyError, TypeError, AttributeError, InvalidKey):
        raise KeyStoreError(f"KEK file {path} is corrupt") from None
    _check_primary(versions, path)
    return versions


def _check_primary(versions: dict[int, _Version], path: Path) -> None:
    primaries = [v for v in versions.values() if v.primary]
    if len(primaries) != 1 or primaries[0].state is not KekState.ACTIVE:
        raise KeyStoreError(f"KEK file {path} must have exactly one primary, active version")
