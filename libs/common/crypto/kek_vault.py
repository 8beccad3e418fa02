"""A KEK provider backed by a Vault (or OpenBao) transit key: the KEK never leaves the KMS.

Calls: ``wrap`` -> ``POST /v1/transit/encrypt/<key>`` (``plaintext`` and ``associated_data``
base64, ``key_version`` = the primary); ``unwrap`` -> ``POST /v1/transit/decrypt/<key>``. The
wrapped ciphertext is Vault's own ``vault:vN:...`` string and the KEK version is its ``N``;
each Vault version is its own AES-256-GCM key and the string names it, so the version is bound
without adding it to the associated data. Only key types with associated data are accepted
(``aes256-gcm96``, ``chacha20-poly1305``).

How the states map onto ``GET /v1/transit/keys/<key>``:

- primary: ``min_encryption_version`` (``latest_version`` while that is 0, Vault's default);
- ``active``: from ``min_decryption_version`` up to the primary;
- ``staged``: above the primary (``stage`` = ``POST .../rotate``, after pinning
  ``min_encryption_version`` so that the rotation does not move the primary);
- ``retired``: below ``min_decryption_version``. ``retire`` raises it past the version, then
  ``POST .../trim`` deletes the archived material: the floor alone is reversible, trim is not.

Refused, because Vault cannot express them: promoting a version older than the primary (the
newer ones would read as staged again), retiring any version but the oldest live one (Vault
retires by moving a floor), and retiring the primary or a staged version.

Synchronous, as `KekProvider` is: an async caller runs it in a thread. The token is read from
its file at every call (an agent may renew it there) and sent only in ``X-Vault-Token``.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import ssl
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from libs.common.crypto.errors import (
    DecryptionFailed,
    KekVersionUnavailable,
    KeyStoreError,
    KmsRefused,
    KmsUnreachable,
)
from libs.common.crypto.kek import KekState, KekVersionInfo, WrappedKey
from libs.common.http import make_sync_client

_CIPHERTEXT = re.compile(r"vault:v([1-9][0-9]{0,9}):[A-Za-z0-9+/=]+")
_KEY_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,127}")
_AEAD_TYPES = frozenset({"aes256-gcm96", "chacha20-poly1305"})
# Vault's answers to a decrypt it cannot do with this version (the version is gone or unknown).
_VERSION_GONE = ("disallowed by policy", "version is too new")


def ciphertext_version(ciphertext: bytes | str) -> int:
    """The key version a transit ciphertext names; DecryptionFailed if it is not one."""
    text = ciphertext.decode("ascii", "replace") if isinstance(ciphertext, bytes) else ciphertext
    match = _CIPHERTEXT.fullmatch(text)
    if match is None:
        raise DecryptionFailed
    return int(match.group(1))


def check_kms_url(url: str) -> str:
    """`url` without a trailing slash; ValueError unless https (plain http only to loopback)."""
    parsed = httpx.URL(url)
    if parsed.scheme == "http" and _loopback(parsed.host):
        return url.rstrip("/")
    if parsed.scheme != "https" or not parsed.host or parsed.query or parsed.userinfo:
        raise ValueError(f"KMS URL {url!r}: use https://host[:port] (plain http only to loopback)")
    return url.rstrip("/")


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class VaultTransitKekProvider:
    """Wraps and unwraps under a Vault transit key; see the module docstring for the states."""

    def __init__(
        self, url: str, key: str, token_file: Path, *, ca_file: Path | None = None
    ) -> None:
        if not _KEY_NAME.fullmatch(key):
            raise ValueError(f"KMS key name {key!r}: letters, digits, '_', '.', '-' only")
        self.url, self.key, self._token_file = check_kms_url(url), key, token_file
        verify: ssl.SSLContext | bool = True
        if ca_file is not None:
            verify = ssl.create_default_context(cafile=str(ca_file))
        self._http = make_sync_client(self.url, verify=verify)

    def __repr__(self) -> str:
        return f"VaultTransitKekProvider({self.url!r}, {self.key!r})"

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    # --- KekProvider -------------------------------------------------------------------------

    def wrap(self, data_key: bytes, aad: bytes) -> WrappedKey:
        """Encrypt `data_key` under the primary version, `aad` as Vault's associated data."""
        if len(data_key) != 32:
            raise ValueError("data keys are 32 bytes")
        primary = self._primary(self._info())
        body = {"plaintext": _b64(data_key), "associated_data": _b64(aad), "key_version": primary}
        answer = self._call("POST", f"encrypt/{self.key}", body)
        ciphertext = str(answer.get("ciphertext", ""))
        if ciphertext_version(ciphertext) != primary:
            raise KeyStoreError(f"the KMS wrapped under another version than {primary}")
        return WrappedKey(primary, ciphertext.encode("ascii"))

    def unwrap(self, wrapped: WrappedKey, aad: bytes) -> bytes:
        """Decrypt; a retired or unknown version is KekVersionUnavailable, else DecryptionFailed."""
        if ciphertext_version(wrapped.ciphertext) != wrapped.kek_version:
            raise DecryptionFailed
        body = {"ciphertext": wrapped.ciphertext.decode("ascii"), "associated_data": _b64(aad)}
        try:
            answer = self._call("POST", f"decrypt/{self.key}", body)
        except _BadRequest as exc:
            if any(gone in exc.message for gone in _VERSION_GONE):
                raise KekVersionUnavailable from None
            if "key not found" in exc.message:
                raise KmsRefused(f"the KMS has no transit key {self.key!r}") from None
            raise DecryptionFailed from None
        try:
            return base64.b64decode(str(answer["plaintext"]), validate=True)
        except (KeyError, binascii.Error):
            raise DecryptionFailed from None

    def versions(self) -> list[KekVersionInfo]:
        """Versions 1 to `latest_version`, oldest first, in the states the docstring maps."""
        info = self._info()
        primary, floor = self._primary(info), int(info["min_decryption_version"])
        created = info.get("keys") or {}
        listed = []
        for number in range(1, int(info["latest_version"]) + 1):
            state = KekState.ACTIVE
            if number < floor:
                state = KekState.RETIRED
            elif number > primary:
                state = KekState.STAGED
            stamp = _created_at(created.get(str(number)))
            listed.append(KekVersionInfo(number, state, number == primary, stamp))
        return listed

    def stage(self) -> int:
        """Rotate the transit key, keeping the primary where it is; the new version is staged."""
        info = self._info()
        if not int(info["min_encryption_version"]):
            self._call(
                "POST", f"keys/{self.key}/config", {"min_encryption_version": self._primary(info)}
            )
        self._call("POST", f"keys/{self.key}/rotate", {})
        return int(self._info()["latest_version"])

    def promote(self, version: int) -> None:
        """Make `version` the primary: `min_encryption_version` moves forward to it."""
        info = self._info()
        primary, latest = self._primary(info), int(info["latest_version"])
        if version < primary or version > latest:
            raise KeyStoreError(
                f"KEK version {version} cannot be promoted: a Vault transit primary only moves "
                f"forward (primary {primary}, latest {latest})"
            )
        self._call("POST", f"keys/{self.key}/config", {"min_encryption_version": version})

    def retire(self, version: int) -> None:
        """Destroy the oldest live version: raise `min_decryption_version` past it, then trim."""
        info = self._info()
        primary, floor = self._primary(info), int(info["min_decryption_version"])
        if version < floor:
            return  # retired already
        if version >= primary:
            raise KeyStoreError(
                f"KEK version {version} cannot be retired: it is not below the primary"
            )
        if version != floor:
            raise KeyStoreError(
                f"KEK version {version} cannot be retired before version {floor}: Vault retires "
                "versions oldest first (min_decryption_version is a floor)"
            )
        config = f"keys/{self.key}/config"
        self._call("POST", config, {"min_decryption_version": version + 1})
        self._call("POST", f"keys/{self.key}/trim", {"min_available_version": version + 1})

    # --- the transit API ---------------------------------------------------------------------

    def _info(self) -> dict[str, Any]:
        info = self._call("GET", f"keys/{self.key}")
        if info.get("type") not in _AEAD_TYPES:
            raise KeyStoreError(
                f"transit key {self.key!r} is of type {info.get('type')!r}: use aes256-gcm96"
            )
        return info

    @staticmethod
    def _primary(info: dict[str, Any]) -> int:
        return int(info["min_encryption_version"]) or int(info["latest_version"])

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """One transit request; its `data`, or the error this provider maps it to."""
        headers = {"X-Vault-Token": self._token()}
        try:
            resp = self._http.request(method, f"/v1/transit/{path}", json=body, headers=headers)
        except httpx.HTTPError as exc:
            raise KmsUnreachable(
                f"the KMS at {self.url} is unreachable ({type(exc).__name__})"
            ) from None
        # 429 and 503 are Vault's standby, sealed or throttled answers: later may work.
        if resp.status_code >= 500 or resp.status_code == 429:
            raise KmsUnreachable(f"the KMS at {self.url} is not serving ({resp.status_code})")
        if resp.status_code == 204:
            return {}
        try:
            doc = resp.json()
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            raise KmsRefused(
                f"the KMS at {self.url} does not speak the transit API ({resp.status_code})"
            )
        if resp.status_code == 400:
            raise _BadRequest(" ".join(str(e) for e in doc.get("errors") or []))
        if resp.status_code in (401, 403):
            raise KmsRefused(
                "the KMS refused the token (permission denied): check it and its policy"
            )
        if resp.status_code == 404:
            raise KmsRefused(f"the KMS has no transit key {self.key!r} at {self.url}")
        if resp.status_code != 200:
            raise KmsRefused(f"the KMS answered {resp.status_code}")
        data = doc.get("data")
        return data if isinstance(data, dict) else {}

    def _token(self) -> str:
        try:
            token = self._token_file.read_text().strip()
        except OSError as exc:
            raise KmsUnreachable(f"the KMS token file {self._token_file}: {exc.strerror}") from None
        if not token:
            raise KmsRefused(f"the KMS token file {self._token_file} is empty")
        return token


class _BadRequest(KmsRefused):
    """Vault's 400: what it says decides which error the caller raises."""

    def __init__(self, message: str) -> None:
        super().__init__(f"the KMS refused the request: {message[:200]}")
        self.message = message


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _created_at(value: Any) -> str:
    # aes256-gcm96 keys list a Unix time per version; other types an object with the time.
    if isinstance(value, int):
        return datetime.fromtimestamp(value, UTC).isoformat(timespec="seconds")
    if isinstance(value, dict):
        return str(value.get("creation_time", ""))
    return ""
