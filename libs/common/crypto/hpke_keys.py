"""HPKE suites and keys: generation, compact text form, fingerprints, cached key objects."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from enum import IntEnum

from cryptography.hazmat.primitives import hpke
from cryptography.hazmat.primitives.asymmetric import mlkem, x25519

from libs.common.crypto.encoding import b64u_decode, b64u_encode, fingerprint_of, key_id_of
from libs.common.crypto.errors import InvalidKey
from libs.common.crypto.public_keys import check_x25519_public

_TEXT_VERSION = "hpke-v1"
_X25519_LEN = 32
_MLKEM768_PUB_LEN = 1184
_MLKEM768_SEED_LEN = 64


class HpkeSuite(IntEnum):
    """Lifeline's HPKE suites; the value is the one-byte suite id written in every blob header."""

    # DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM: RFC 9180 ids 0x0020/0x0001/0x0002.
    X25519 = 1
    # ML-KEM-768 + X25519 hybrid (X-Wing), HKDF-SHA256, AES-256-GCM: the suite partners are
    # told to use, because sealed reports must stay secret past a future quantum computer.
    MLKEM768_X25519 = 2

    @property
    def label(self) -> str:
        """The suite's name in key text forms."""
        return _LABELS[self]

    @property
    def hpke_suite(self) -> hpke.Suite:
        """The `cryptography` suite object (built once)."""
        return _SUITES[self]

    @property
    def enc_length(self) -> int:
        """Length of the encapsulated key that starts every HPKE ciphertext."""
        return _ENC_LENGTHS[self]


_LABELS = {HpkeSuite.X25519: "x25519", HpkeSuite.MLKEM768_X25519: "mlkem768x25519"}
_BY_LABEL = {label: suite for suite, label in _LABELS.items()}
_SUITES = {
    HpkeSuite.X25519: hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM),
    HpkeSuite.MLKEM768_X25519: hpke.Suite(
        hpke.KEM.MLKEM768_X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM
    ),
}
_ENC_LENGTHS = {
    HpkeSuite.X25519: hpke.KEM.X25519.enc_length(),
    HpkeSuite.MLKEM768_X25519: hpke.KEM.MLKEM768_X25519.enc_length(),
}
DEFAULT_SUITE = HpkeSuite.MLKEM768_X25519

_PublicObj = x25519.X25519PublicKey | hpke.MLKEM768X25519PublicKey
_PrivateObj = x25519.X25519PrivateKey | hpke.MLKEM768X25519PrivateKey


@dataclass(frozen=True, slots=True, eq=False)
class HpkePublicKey:
    """A recipient public key with its suite, text form, key id and ready-to-use key object."""

    suite: HpkeSuite
    raw: bytes
    text: str
    key_id: bytes
    obj: _PublicObj

    def fingerprint(self) -> str:
        """SHA-256 of the text form, grouped for pinning in settings and reading aloud."""
        return fingerprint_of(self.text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HpkePublicKey) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"HpkePublicKey({self.suite.label}, kid={b64u_encode(self.key_id)})"


@dataclass(frozen=True, slots=True, eq=False)
class HpkePrivateKey:
    """A recipient private key; never printed, compared or logged by value."""

    suite: HpkeSuite
    raw: bytes
    obj: _PrivateObj
    public_key: HpkePublicKey

    @property
    def key_id(self) -> bytes:
        """The key id of the matching public key."""
        return self.public_key.key_id

    def __repr__(self) -> str:
        # The default dataclass repr would print `raw`; a stray log line must not leak the key.
        return f"HpkePrivateKey({self.suite.label}, kid={b64u_encode(self.key_id)})"


def generate_private_key(suite: HpkeSuite = DEFAULT_SUITE) -> HpkePrivateKey:
    """Generate a fresh recipient key pair for `suite` (hybrid post-quantum by default)."""
    x_raw = x25519.X25519PrivateKey.generate().private_bytes_raw()
    if suite is HpkeSuite.X25519:
        return _private_from_raw(suite, x_raw)
    seed = mlkem.MLKEM768PrivateKey.generate().private_bytes_raw()
    return _private_from_raw(suite, seed + x_raw)


def _public_from_raw(suite: HpkeSuite, raw: bytes) -> HpkePublicKey:
    obj: _PublicObj
    try:
        if suite is HpkeSuite.X25519:
            obj = x25519.X25519PublicKey.from_public_bytes(raw)
        else:
            if len(raw) != _MLKEM768_PUB_LEN + _X25519_LEN:
                raise InvalidKey("wrong key length for suite")
            obj = hpke.MLKEM768X25519PublicKey(
                mlkem.MLKEM768PublicKey.from_public_bytes(raw[:_MLKEM768_PUB_LEN]),
                x25519.X25519PublicKey.from_public_bytes(raw[_MLKEM768_PUB_LEN:]),
            )
    except ValueError:
        raise InvalidKey("not a valid public key for this suite") from None
    # The X25519 part (the whole key, or the hybrid's last 32 bytes) must not be of low order:
    # every shared secret with such a key is zero, so sealing to it fails.
    check_x25519_public(raw[-_X25519_LEN:])
    text = f"{_TEXT_VERSION}:pub:{suite.label}:{b64u_encode(raw)}"
    return HpkePublicKey(suite, raw, text, key_id_of(text), obj)


def _private_from_raw(suite: HpkeSuite, raw: bytes) -> HpkePrivateKey:
    obj: _PrivateObj
    try:
        if suite is HpkeSuite.X25519:
            obj = x25519.X25519PrivateKey.from_private_bytes(raw)
            pub_raw = obj.public_key().public_bytes_raw()
        else:
            if len(raw) != _MLKEM768_SEED_LEN + _X25519_LEN:
                raise InvalidKey("wrong key length for suite")
            # `cryptography` cannot serialise the hybrid key, so Lifeline stores its two halves:
            # the 64-byte ML-KEM seed followed by the 32-byte X25519 scalar.
            m = mlkem.MLKEM768PrivateKey.from_seed_bytes(raw[:_MLKEM768_SEED_LEN])
            x = x25519.X25519PrivateKey.from_private_bytes(raw[_MLKEM768_SEED_LEN:])
            obj = hpke.MLKEM768X25519PrivateKey(m, x)
            pub_raw = m.public_key().public_bytes_raw() + x.public_key().public_bytes_raw()
    except ValueError:
        raise InvalidKey("not a valid private key for this suite") from None
    return HpkePrivateKey(suite, raw, obj, _public_from_raw(suite, pub_raw))


def _split_text(text: str, kind: str) -> tuple[HpkeSuite, bytes]:
    parts = text.split(":")
    if len(parts) != 4 or parts[0] != _TEXT_VERSION or parts[1] != kind:
        raise InvalidKey(f"not an HPKE {'public' if kind == 'pub' else 'private'} key")
    suite = _BY_LABEL.get(parts[2])
    if suite is None:
        raise InvalidKey("unknown HPKE suite")
    return suite, b64u_decode(parts[3])


@functools.lru_cache(maxsize=1024)
def load_public_key(text: str) -> HpkePublicKey:
    """Parse `hpke-v1:pub:<suite>:<base64url>`; cached, since building key objects is not free."""
    suite, raw = _split_text(text.strip(), "pub")
    return _public_from_raw(suite, raw)


def load_private_key(text: str) -> HpkePrivateKey:
    """Parse `hpke-v1:priv:<suite>:<base64url>`; keep the result in a keyring, not the text."""
    # Deliberately not lru-cached: a module-level cache would keep secret text alive and
    # reachable; the service holds loaded private keys in its HpkeKeyring instead.
    suite, raw = _split_text(text.strip(), "priv")
    return _private_from_raw(suite, raw)


def dump_public_key(key: HpkePublicKey) -> str:
    """The compact text form of a public key (names the suite)."""
    return key.text


def dump_private_key(key: HpkePrivateKey) -> str:
    """The compact text form of a private key; store it only in a secret store or 0600 file."""
    return f"{_TEXT_VERSION}:priv:{key.suite.label}:{b64u_encode(key.raw)}"
