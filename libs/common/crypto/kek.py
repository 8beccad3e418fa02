"""Key-encryption keys: the `KekProvider` seam, wrapped-key format and data-key helpers.

A provider wraps 32-byte data keys under versioned KEKs. Version states:

- ``staged``  - present everywhere and able to unwrap, not yet used to wrap (lets every replica
  learn a new KEK before any of them writes with it);
- ``active``  - able to unwrap; exactly one active version is *primary* and wraps new keys;
- ``retired`` - key material destroyed; anything still wrapped under it is unreadable.

Rotation: ``stage()`` -> ``promote(new)`` -> rewrap job (``rewrap``) -> ``retire(old)``.

The external-KMS seam: a Vault-transit or cloud-KMS adapter implements the same Protocol, maps
``wrap``/``unwrap`` to the service's encrypt/decrypt call with ``aad`` as its authenticated
context (Vault ``associated_data``/``context``, AWS ``EncryptionContext``), returns the KMS key
version as ``kek_version`` and its opaque ciphertext as ``WrappedKey.ciphertext``, and maps the
state changes to key-version rotation, ``min_decryption_version`` and version destruction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol, runtime_checkable

from libs.common.crypto.encoding import encode_context
from libs.common.crypto.errors import DecryptionFailed
from libs.common.crypto.fields import DataKey, FieldContext, reencrypt_fields

__all__ = [
    "KekProvider",
    "KekState",
    "KekVersionInfo",
    "WrappedKey",
    "primary_version",
    "rewrap",
    "rewrap_report",
    "unwrap_data_key",
    "wrap_aad",
    "wrap_data_key",
]

WRAPPED_FORMAT_VERSION = 1
_WRAPPED_HEADER_LEN = 5


class KekState(StrEnum):
    """Lifecycle state of one KEK version."""

    STAGED = "staged"
    ACTIVE = "active"
    RETIRED = "retired"


@dataclass(frozen=True, slots=True)
class KekVersionInfo:
    """One KEK version as listed to operators (no key material)."""

    version: int
    state: KekState
    primary: bool
    created_at: str


@dataclass(frozen=True, slots=True)
class WrappedKey:
    """A data key wrapped under KEK `kek_version`; `ciphertext` is provider-specific."""

    kek_version: int
    ciphertext: bytes

    def to_bytes(self) -> bytes:
        """Storage form: ``0x01 || kek_version (u32 BE) || ciphertext``."""
        return (
            bytes((WRAPPED_FORMAT_VERSION,)) + self.kek_version.to_bytes(4, "big") + self.ciphertext
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> WrappedKey:
        """Parse the storage form; an unknown format version fails opaquely."""
        if len(data) <= _WRAPPED_HEADER_LEN or data[0] != WRAPPED_FORMAT_VERSION:
            raise DecryptionFailed
        return cls(int.from_bytes(data[1:5], "big"), bytes(data[_WRAPPED_HEADER_LEN:]))


@runtime_checkable
class KekProvider(Protocol):
    """Wraps and unwraps data keys under versioned KEKs; local file or external KMS behind it."""

    def wrap(self, data_key: bytes, aad: bytes) -> WrappedKey:
        """Wrap under the primary version; the provider itself binds that version into the AAD."""
        ...

    def unwrap(self, wrapped: WrappedKey, aad: bytes) -> bytes:
        """Unwrap; a retired/unknown version raises KekVersionUnavailable, else DecryptionFailed."""
        ...

    def versions(self) -> list[KekVersionInfo]:
        """All versions, oldest first."""
        ...

    def stage(self) -> int:
        """Create a new version in state staged and return its number."""
        ...

    def promote(self, version: int) -> None:
        """Make a staged or active version the primary (the previous primary stays active)."""
        ...

    def retire(self, version: int) -> None:
        """Destroy a non-primary version's key material; irreversible."""
        ...


def primary_version(provider: KekProvider) -> int:
    """The version new data keys are wrapped under."""
    return next(v.version for v in provider.versions() if v.primary)


def wrap_aad(*, report_id: str, data_key_id: str) -> bytes:
    """AAD for wrapping a data key: binds the owning report (or identifier block) and key id."""
    return encode_context("lifeline/data-key/v1", report=report_id, data_key=data_key_id)


def wrap_data_key(provider: KekProvider, data_key: DataKey, *, report_id: str) -> WrappedKey:
    """Wrap `data_key` for storage in the row of `report_id`."""
    return provider.wrap(data_key.key, wrap_aad(report_id=report_id, data_key_id=data_key.key_id))


def unwrap_data_key(
    provider: KekProvider, wrapped: WrappedKey, *, report_id: str, data_key_id: str
) -> DataKey:
    """Unwrap the data key stored in the row of `report_id`; a key from another row fails."""
    raw = provider.unwrap(wrapped, wrap_aad(report_id=report_id, data_key_id=data_key_id))
    return DataKey(key_id=data_key_id, key=raw)


def rewrap(provider: KekProvider, wrapped: WrappedKey, aad: bytes) -> WrappedKey:
    """Re-wrap under the primary version (the rotation job's step); unchanged if already there."""
    if wrapped.kek_version == primary_version(provider):
        return wrapped
    return provider.wrap(provider.unwrap(wrapped, aad), aad)


def rewrap_report(
    provider: KekProvider,
    wrapped: WrappedKey,
    ctx: FieldContext,
    blobs: Mapping[str, bytes],
) -> tuple[WrappedKey, FieldContext, dict[str, bytes]]:
    """Rotation-job step for one row: rewrap the data key and re-bind the fields to the new KEK.

    Field AAD includes the KEK version, so the fields are re-encrypted too (same data key,
    fresh nonces). Write the three results back in one transaction.
    """
    if wrapped.kek_version == primary_version(provider) == ctx.kek_version:
        return wrapped, ctx, dict(blobs)
    aad = wrap_aad(report_id=ctx.report_id, data_key_id=ctx.data_key_id)
    raw = provider.unwrap(wrapped, aad)
    new_wrapped = provider.wrap(raw, aad)
    new_ctx = replace(ctx, kek_version=new_wrapped.kek_version)
    data_key = DataKey(key_id=ctx.data_key_id, key=raw)
    return new_wrapped, new_ctx, reencrypt_fields(data_key, ctx, new_ctx, blobs)
