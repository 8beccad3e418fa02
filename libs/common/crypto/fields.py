"""Field-level encryption at rest: one data key per report, a subkey and AES-256-GCM per field.

Field blob v1: ``0x01 || suite_id (1) || nonce (12) || ciphertext+tag``. Suite 1 is HKDF-SHA256
subkeys with AES-256-GCM. The associated data is rebuilt by the caller from the row's columns
(`FieldContext`) plus the field name, never read back from the blob.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from libs.common.crypto.encoding import JSONValue, canonical_json, encode_context, lp
from libs.common.crypto.errors import DecryptionFailed

__all__ = [
    "FORMAT_VERSION",
    "SUITE_HKDF_SHA256_AES256GCM",
    "DataKey",
    "FieldContext",
    "decrypt_field",
    "decrypt_fields",
    "encrypt_field",
    "encrypt_fields",
    "new_data_key",
    "reencrypt_fields",
]

FORMAT_VERSION = 1
SUITE_HKDF_SHA256_AES256GCM = 1
DATA_KEY_LEN = 32
NONCE_LEN = 12
_TAG_LEN = 16
_HEADER = bytes((FORMAT_VERSION, SUITE_HKDF_SHA256_AES256GCM))
_HEADER_LEN = len(_HEADER) + NONCE_LEN
# Plaintexts are padded with JSON whitespace to a multiple of this, so a ciphertext's length
# reveals a bucket, not the exact length of (say) a locality or a charge list.
PAD_BLOCK = 32
_MAX_FIELD_NAME = 128


@dataclass(frozen=True, slots=True)
class DataKey:
    """A 256-bit data key and its id; wrap it with a KekProvider, never store it in clear."""

    key_id: str
    key: bytes

    def __post_init__(self) -> None:
        if len(self.key) != DATA_KEY_LEN or not self.key_id:
            raise ValueError("a data key is 32 bytes with a non-empty id")

    def __repr__(self) -> str:
        # Hide the key material from reprs, tracebacks and debug logs.
        return f"DataKey(key_id={self.key_id!r})"


@dataclass(frozen=True, slots=True)
class FieldContext:
    """The row columns every field ciphertext is bound to; rebuilt from the row on read."""

    partner_id: str
    report_id: str
    data_key_id: str
    kek_version: int


def new_data_key() -> DataKey:
    """A fresh random data key (one per report, one per person identifier block)."""
    return DataKey(key_id=str(uuid.uuid4()), key=os.urandom(DATA_KEY_LEN))


def _check_name(field: str) -> None:
    if not field or len(field) > _MAX_FIELD_NAME:
        raise ValueError("field name must be 1-128 characters")


_SUBKEY_INFO = encode_context("lifeline/field-subkey/v1", suite=SUITE_HKDF_SHA256_AES256GCM)


@functools.lru_cache(maxsize=1024)
def _field_parts(field: str) -> tuple[bytes, bytes]:
    """(HKDF-Expand's input block for the field's subkey, the field's AAD suffix)."""
    _check_name(field)
    name = lp(field.encode())
    # RFC 5869 §2.3: with L = HashLen, OKM = T(1) = HMAC(PRK, info || 0x01).
    return _SUBKEY_INFO + name + b"\x01", name


class _Subkeys:
    """A report's field subkeys: HKDF-Expand(data key, info || field), keyed once per report.

    A subkey per field keeps nonce-collision risk per (report, field) tiny and makes a
    ciphertext moved to another field fail twice over (other key, other AAD). The data key is
    already uniformly random, so HKDF-Expand alone is the right KDF (RFC 5869 §3.3). For a
    32-byte output that is one HMAC block, so the HMAC keyed with the data key is set up once
    and copied per field: the same subkeys as `HKDFExpand` (a unit test holds them equal), at
    half the cost, which matters at 14 fields per report.
    """

    __slots__ = ("_mac",)

    def __init__(self, data_key: DataKey) -> None:
        self._mac = hmac.new(data_key.key, digestmod=hashlib.sha256)

    def aead(self, block: bytes) -> AESGCM:
        """The AES-256-GCM object of the field whose expand input is `block`."""
        mac = self._mac.copy()
        mac.update(block)
        return AESGCM(mac.digest())


def _row_aad(ctx: FieldContext) -> bytes:
    # Encoded once per row; the field name is appended per field. encode_context's output is
    # self-delimiting, so `row || lp(field)` stays unambiguous.
    return encode_context(
        "lifeline/field/v1",
        version=FORMAT_VERSION,
        suite=SUITE_HKDF_SHA256_AES256GCM,
        partner=ctx.partner_id,
        report=ctx.report_id,
        data_key=ctx.data_key_id,
        kek_version=ctx.kek_version,
    )


def _encrypt(keys: _Subkeys, row_aad: bytes, field: str, value: JSONValue) -> bytes:
    block, name = _field_parts(field)
    plain = canonical_json(value)
    plain += b" " * (-len(plain) % PAD_BLOCK)
    nonce = os.urandom(NONCE_LEN)
    return _HEADER + nonce + keys.aead(block).encrypt(nonce, plain, row_aad + name)


def _decrypt(keys: _Subkeys, row_aad: bytes, field: str, blob: bytes) -> JSONValue:
    block, name = _field_parts(field)
    if len(blob) < _HEADER_LEN + _TAG_LEN or blob[:2] != _HEADER:
        raise DecryptionFailed
    try:
        plain = keys.aead(block).decrypt(
            bytes(blob[2:_HEADER_LEN]), bytes(blob[_HEADER_LEN:]), row_aad + name
        )
    except InvalidTag:
        raise DecryptionFailed from None
    # Authenticated bytes were produced by _encrypt, so a parse error means a bug, not an
    # attack; still surface it as the same opaque failure rather than a 500 with details.
    try:
        value: JSONValue = json.loads(plain.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise DecryptionFailed from None
    return value


def _check_key_for_encrypt(data_key: DataKey, ctx: FieldContext) -> None:
    if data_key.key_id != ctx.data_key_id:
        raise ValueError("data key does not match the row's data key id")


def _check_key_for_decrypt(data_key: DataKey, ctx: FieldContext) -> None:
    # A row naming one data key while the caller unwrapped another is a bug or tampering; both
    # end in the same opaque failure.
    if data_key.key_id != ctx.data_key_id:
        raise DecryptionFailed


def encrypt_field(data_key: DataKey, ctx: FieldContext, field: str, value: JSONValue) -> bytes:
    """Encrypt one JSON-able value as field `field` of the row described by `ctx`."""
    _check_key_for_encrypt(data_key, ctx)
    return _encrypt(_Subkeys(data_key), _row_aad(ctx), field, value)


def decrypt_field(data_key: DataKey, ctx: FieldContext, field: str, blob: bytes) -> JSONValue:
    """Decrypt field `field` of row `ctx`; a blob from anywhere else raises DecryptionFailed."""
    _check_key_for_decrypt(data_key, ctx)
    return _decrypt(_Subkeys(data_key), _row_aad(ctx), field, blob)


def encrypt_fields(
    data_key: DataKey, ctx: FieldContext, values: Mapping[str, JSONValue]
) -> dict[str, bytes]:
    """Encrypt every field of a report (or identifier block) in one go."""
    _check_key_for_encrypt(data_key, ctx)
    keys, row_aad = _Subkeys(data_key), _row_aad(ctx)
    return {field: _encrypt(keys, row_aad, field, value) for field, value in values.items()}


def decrypt_fields(
    data_key: DataKey, ctx: FieldContext, blobs: Mapping[str, bytes]
) -> dict[str, JSONValue]:
    """Decrypt every field given; fails as a whole if any one does not check out."""
    _check_key_for_decrypt(data_key, ctx)
    keys, row_aad = _Subkeys(data_key), _row_aad(ctx)
    return {field: _decrypt(keys, row_aad, field, blob) for field, blob in blobs.items()}


def reencrypt_fields(
    data_key: DataKey, old: FieldContext, new: FieldContext, blobs: Mapping[str, bytes]
) -> dict[str, bytes]:
    """Re-bind fields to a new context (e.g. the KEK version after a rewrap), same data key."""
    return encrypt_fields(data_key, new, decrypt_fields(data_key, old, blobs))
