"""Ed25519 signatures over canonical byte strings, e.g. sealed deliveries (sharing -> partner).

Signature v1: ``0x01 || signer key id (16) || Ed25519 signature (64)``. What is signed is
``encode_context("lifeline/sig/v1", purpose=..., key=key_id, message=...)``, so a signature
made for one purpose (say, an audit checkpoint) never verifies as another (a delivery).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed25519

from libs.common.crypto.encoding import (
    b64u_decode,
    b64u_encode,
    encode_context,
    fingerprint_of,
    key_id_of,
)
from libs.common.crypto.errors import InvalidKey, SignatureInvalid
from libs.common.crypto.public_keys import check_ed25519_public

__all__ = [
    "DELIVERY_PURPOSE",
    "SigningKey",
    "VerifyKey",
    "dump_signing_key",
    "dump_verify_key",
    "generate_signing_key",
    "load_signing_key",
    "load_verify_key",
    "sealed_delivery_payload",
    "sign",
    "signing_key_from_raw",
    "verify",
    "verify_key_from_jwk",
    "verify_key_from_raw",
    "verify_key_to_jwk",
]

FORMAT_VERSION = 1
KEY_ID_LEN = 16
SIGNATURE_LEN = 1 + KEY_ID_LEN + 64
DELIVERY_PURPOSE = "lifeline/sealed-delivery/v1"
_PUB_PREFIX = "ed25519-v1:pub:"
_PRIV_PREFIX = "ed25519-v1:priv:"


@dataclass(frozen=True, slots=True, eq=False)
class VerifyKey:
    """An Ed25519 public key with its text form and key id."""

    raw: bytes
    text: str
    key_id: bytes
    obj: ed25519.Ed25519PublicKey

    def fingerprint(self) -> str:
        """SHA-256 of the text form, grouped for pinning and reading aloud."""
        return fingerprint_of(self.text)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VerifyKey) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    def __repr__(self) -> str:
        return f"VerifyKey(kid={b64u_encode(self.key_id)})"


@dataclass(frozen=True, slots=True, eq=False)
class SigningKey:
    """An Ed25519 private key; never printed or logged by value."""

    raw: bytes
    obj: ed25519.Ed25519PrivateKey
    verify_key: VerifyKey

    @property
    def key_id(self) -> bytes:
        """The key id of the matching public key."""
        return self.verify_key.key_id

    def __repr__(self) -> str:
        return f"SigningKey(kid={b64u_encode(self.key_id)})"


def verify_key_from_raw(raw: bytes) -> VerifyKey:
    """An Ed25519 public key from its 32 raw bytes; WeakPublicKey if it is of small order."""
    try:
        obj = ed25519.Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise InvalidKey("not an Ed25519 public key") from None
    check_ed25519_public(raw)
    text = _PUB_PREFIX + b64u_encode(raw)
    return VerifyKey(raw, text, key_id_of(text), obj)


def signing_key_from_raw(raw: bytes) -> SigningKey:
    """An Ed25519 private key from its 32 raw bytes."""
    try:
        obj = ed25519.Ed25519PrivateKey.from_private_bytes(raw)
    except ValueError:
        raise InvalidKey("not an Ed25519 private key") from None
    return SigningKey(raw, obj, verify_key_from_raw(obj.public_key().public_bytes_raw()))


def generate_signing_key() -> SigningKey:
    """Generate a fresh Ed25519 signing key."""
    return signing_key_from_raw(ed25519.Ed25519PrivateKey.generate().private_bytes_raw())


@functools.lru_cache(maxsize=1024)
def load_verify_key(text: str) -> VerifyKey:
    """Parse `ed25519-v1:pub:<base64url>` (cached)."""
    text = text.strip()
    if not text.startswith(_PUB_PREFIX):
        raise InvalidKey("not an Ed25519 public key")
    return verify_key_from_raw(b64u_decode(text.removeprefix(_PUB_PREFIX)))


def load_signing_key(text: str) -> SigningKey:
    """Parse `ed25519-v1:priv:<base64url>` (not cached: secret text is not kept around)."""
    text = text.strip()
    if not text.startswith(_PRIV_PREFIX):
        raise InvalidKey("not an Ed25519 private key")
    return signing_key_from_raw(b64u_decode(text.removeprefix(_PRIV_PREFIX)))


def dump_verify_key(key: VerifyKey) -> str:
    """The compact text form of a public key."""
    return key.text


def dump_signing_key(key: SigningKey) -> str:
    """The compact text form of a private key; keep it in a secret store or 0600 file."""
    return _PRIV_PREFIX + b64u_encode(key.raw)


def verify_key_to_jwk(key: VerifyKey) -> dict[str, str]:
    """The public key as an RFC 8037 OKP JWK, `kid` = base64url key id."""
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64u_encode(key.raw),
        "kid": b64u_encode(key.key_id),
    }


def verify_key_from_jwk(jwk: Mapping[str, object]) -> VerifyKey:
    """Parse a public OKP/Ed25519 JWK; a JWK carrying private material (`d`) is refused."""
    x = jwk.get("x")
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or not isinstance(x, str):
        raise InvalidKey("not an Ed25519 public JWK")
    if "d" in jwk:
        # Accepting it would let a pasted private key end up in a registry of public keys.
        raise InvalidKey("JWK contains private key material")
    key = verify_key_from_raw(b64u_decode(x))
    if "kid" in jwk and jwk["kid"] != b64u_encode(key.key_id):
        raise InvalidKey("JWK kid does not match its key")
    return key


def _signed_bytes(purpose: str, key_id: bytes, message: bytes) -> bytes:
    return encode_context("lifeline/sig/v1", purpose=purpose, key=key_id, message=message)


def sign(key: SigningKey, message: bytes, *, purpose: str) -> bytes:
    """Sign canonical `message` for `purpose`; the result names the signer's key id."""
    sig = key.obj.sign(_signed_bytes(purpose, key.key_id, message))
    return bytes((FORMAT_VERSION,)) + key.key_id + sig


def verify(
    trusted: VerifyKey | Iterable[VerifyKey], message: bytes, signature: bytes, *, purpose: str
) -> VerifyKey:
    """Verify against the trusted key the signature names; return it or raise SignatureInvalid."""
    if len(signature) != SIGNATURE_LEN or signature[0] != FORMAT_VERSION:
        raise SignatureInvalid
    key_id = bytes(signature[1 : 1 + KEY_ID_LEN])
    keys = [trusted] if isinstance(trusted, VerifyKey) else trusted
    key = next((k for k in keys if k.key_id == key_id), None)
    if key is None:
        raise SignatureInvalid
    try:
        key.obj.verify(bytes(signature[1 + KEY_ID_LEN :]), _signed_bytes(purpose, key_id, message))
    except InvalidSignature:
        raise SignatureInvalid from None
    return key


def sealed_delivery_payload(
    *, recipient_id: str, report_id: str, delivery_id: str, sealed: bytes
) -> bytes:
    """The canonical bytes sharing signs for a sealed delivery (sign with DELIVERY_PURPOSE)."""
    return encode_context(
        "lifeline/sealed-delivery-payload/v1",
        recipient=recipient_id,
        report=report_id,
        delivery=delivery_id,
        sealed=sealed,
    )
