"""HPKE (RFC 9180) sealing: reports to sharing, deliveries to partners; versioned blob header.

Blob v1: ``0x01 || suite_id (1) || recipient key id (16) || enc || ciphertext+tag``.
The header is authenticated: it is folded, with the caller's `info` and `aad`, into the HPKE
`info` (the key schedule), so changing any header byte makes the blob fail to open.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag

from libs.common.crypto.encoding import b64u_encode, encode_context
from libs.common.crypto.errors import DecryptionFailed, WeakPublicKey
from libs.common.crypto.hpke_keys import (
    DEFAULT_SUITE,
    HpkePrivateKey,
    HpkePublicKey,
    HpkeSuite,
    dump_private_key,
    dump_public_key,
    generate_private_key,
    load_private_key,
    load_public_key,
)

__all__ = [
    "DEFAULT_SUITE",
    "FORMAT_VERSION",
    "HpkeKeyring",
    "HpkePrivateKey",
    "HpkePublicKey",
    "HpkeSuite",
    "SealedHeader",
    "delivery_info",
    "dump_private_key",
    "dump_public_key",
    "generate_private_key",
    "load_private_key",
    "load_public_key",
    "open",
    "peek_header",
    "report_seal_info",
    "seal",
]

FORMAT_VERSION = 1
KEY_ID_LEN = 16
HEADER_LEN = 2 + KEY_ID_LEN
_TAG_LEN = 16  # AES-256-GCM, the only AEAD of both suites
_SUITES_BY_ID = {suite.value: suite for suite in HpkeSuite}


@dataclass(frozen=True, slots=True)
class SealedHeader:
    """The clear header of a sealed blob; safe to log (ids only)."""

    version: int
    suite: HpkeSuite
    key_id: bytes

    @property
    def kid(self) -> str:
        """The recipient key id as base64url."""
        return b64u_encode(self.key_id)


class HpkeKeyring:
    """The private keys a recipient can open with, by key id; old keys stay until drained."""

    def __init__(self, keys: Iterable[HpkePrivateKey] = ()) -> None:
        self._keys: dict[bytes, HpkePrivateKey] = {}
        for key in keys:
            self.add(key)

    def add(self, key: HpkePrivateKey) -> None:
        """Add a key, e.g. the new one during a rotation (old ones stay until drained)."""
        self._keys[key.key_id] = key

    def remove(self, key_id: bytes) -> None:
        """Drop a key once nothing sealed under it is left; blobs for it then fail to open."""
        self._keys.pop(key_id, None)

    def get(self, key_id: bytes) -> HpkePrivateKey | None:
        """The private key with this id, if held."""
        return self._keys.get(key_id)

    def __iter__(self) -> Iterator[HpkePrivateKey]:
        return iter(self._keys.values())

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"HpkeKeyring({[b64u_encode(k) for k in self._keys]})"


def report_seal_info(*, report_id: str, partner_id: str) -> bytes:
    """`info` for intake sealing a submitted report to sharing."""
    return encode_context("lifeline/report-seal/v1", report=report_id, partner=partner_id)


def delivery_info(*, recipient_id: str, report_id: str, delivery_id: str) -> bytes:
    """`info` for sharing sealing a report read to a partner's registered key."""
    return encode_context(
        "lifeline/partner-delivery/v1",
        recipient=recipient_id,
        report=report_id,
        delivery=delivery_id,
    )


def _bound_info(header: bytes, info: bytes, aad: bytes) -> bytes:
    # `cryptography` offers only the single-shot API without AAD; RFC 9180 §8.1 says to put
    # auxiliary authenticated data in `info` then. Separate labelled slots keep (info, aad)
    # pairs from colliding, and the header slot authenticates version, suite and key id.
    return encode_context("lifeline/hpke-blob/v1", header=header, info=info, aad=aad)


def seal(public_key: HpkePublicKey, plaintext: bytes, info: bytes, aad: bytes = b"") -> bytes:
    """Encrypt `plaintext` to `public_key`; only the holder of the private key can open it."""
    header = bytes((FORMAT_VERSION, public_key.suite.value)) + public_key.key_id
    try:
        sealed = public_key.suite.hpke_suite.encrypt(
            plaintext, public_key.obj, info=_bound_info(header, info, aad)
        )
    except ValueError:
        # OpenSSL refuses an all-zero X25519 shared secret, i.e. a low-order key that got past
        # `load_public_key` (built by hand): the caller's key is at fault, not the server.
        raise WeakPublicKey("low-order X25519 public key") from None
    return header + sealed


def peek_header(blob: bytes) -> SealedHeader:
    """Parse and check the clear header (routing/logging); says nothing about authenticity."""
    if len(blob) < HEADER_LEN or blob[0] != FORMAT_VERSION:
        raise DecryptionFailed
    suite = _SUITES_BY_ID.get(blob[1])
    if suite is None or len(blob) < HEADER_LEN + suite.enc_length + _TAG_LEN:
        raise DecryptionFailed
    return SealedHeader(blob[0], suite, bytes(blob[2:HEADER_LEN]))


# Shadows the builtin inside this module only; callers write `hpke.open(...)`.
def open(
    private_key: HpkePrivateKey | HpkeKeyring, blob: bytes, info: bytes, aad: bytes = b""
) -> bytes:
    """Open a sealed blob with the key its header names; any mismatch raises DecryptionFailed."""
    header = peek_header(blob)
    key = (
        private_key.get(header.key_id)
        if isinstance(private_key, HpkeKeyring)
        else (private_key if private_key.key_id == header.key_id else None)
    )
    if key is None or key.suite is not header.suite:
        raise DecryptionFailed
    try:
        return key.suite.hpke_suite.decrypt(
            blob[HEADER_LEN:], key.obj, info=_bound_info(bytes(blob[:HEADER_LEN]), info, aad)
        )
    except (InvalidTag, ValueError, TypeError):
        raise DecryptionFailed from None
