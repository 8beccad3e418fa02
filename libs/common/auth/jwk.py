"""Ed25519 keys as JWKs (RFC 8037), RFC 7638 thumbprints, and the key-id rules."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from typing import Any, TypeGuard

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from libs.common.crypto.public_keys import check_ed25519_public

# A kid is looked up in dictionaries and may later reach a database query or a log line, so
# only short base64url-alphabet strings are accepted; an RFC 7638 SHA-256 thumbprint is 43.
_SAFE_KID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def is_safe_kid(kid: object) -> TypeGuard[str]:
    """True when `kid` is a short base64url-alphabet string (no paths, quotes or spaces)."""
    return isinstance(kid, str) and _SAFE_KID.fullmatch(kid) is not None


def b64url_encode(data: bytes) -> str:
    """Base64url without padding (RFC 7515 §2)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url: no padding, only the alphabet, and canonical trailing bits."""
    if _B64URL.fullmatch(text) is None or len(text) % 4 == 1:
        raise ValueError("not base64url")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    # Non-canonical encodings decode to the same bytes; refusing them keeps one spelling
    # per value, so a token hash or a thumbprint cannot be varied by an attacker.
    if b64url_encode(data) != text:
        raise ValueError("non-canonical base64url")
    return data


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint of an OKP public JWK (the kid we use everywhere)."""
    if jwk.get("kty") != "OKP":
        raise ValueError("only OKP keys are supported")
    members = {"crv": jwk["crv"], "kty": "OKP", "x": jwk["x"]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return b64url_encode(hashlib.sha256(canonical).digest())


def ed25519_thumbprint(public_key: Ed25519PublicKey) -> str:
    """The RFC 7638 thumbprint of an Ed25519 public key."""
    return jwk_thumbprint({"kty": "OKP", "crv": "Ed25519", "x": _x(public_key)})


def ed25519_public_jwk(public_key: Ed25519PublicKey, *, kid: str | None = None) -> dict[str, str]:
    """The public JWK of `public_key` with kid (default: its thumbprint), use=sig, alg=EdDSA."""
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": _x(public_key)}
    chosen = kid if kid is not None else jwk_thumbprint(jwk)
    if not is_safe_kid(chosen):
        raise ValueError("kid must be 1-64 base64url characters")
    return {**jwk, "kid": chosen, "use": "sig", "alg": "EdDSA"}


def public_key_from_jwk(jwk: Mapping[str, Any]) -> Ed25519PublicKey:
    """Load an Ed25519 verification key from a public JWK, refusing anything else."""
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise ValueError("not an Ed25519 OKP key")
    if "d" in jwk:
        # A private key in a public document means the publisher leaked it; never use it.
        raise ValueError("private key material in a public JWK")
    if jwk.get("use", "sig") != "sig" or jwk.get("alg", "EdDSA") != "EdDSA":
        raise ValueError("key is not for EdDSA signatures")
    key_ops = jwk.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        raise ValueError("key is not for verification")
    return _ed25519_public(_jwk_x(jwk))


def stored_public_key(jwk: Mapping[str, Any]) -> Ed25519PublicKey:
    """A registered key's JWK, loaded only to be shown, never to verify with.

    Skips the small-order check, so a weak key registered before that check existed can still
    be listed (and revoked) by an administrator; every verification loads keys through
    `public_key_from_jwk`, which refuses it.
    """
    return Ed25519PublicKey.from_public_bytes(_jwk_x(jwk))


def _jwk_x(jwk: Mapping[str, Any]) -> bytes:
    x = jwk.get("x")
    if not isinstance(x, str):
        raise TypeError("missing x")
    return b64url_decode(x)


def _ed25519_public(raw: bytes) -> Ed25519PublicKey:
    if len(raw) != 32:
        raise ValueError("Ed25519 public keys are 32 bytes")
    # WeakPublicKey (a ValueError): non-canonical, off the curve, or of small order.
    return Ed25519PublicKey.from_public_bytes(check_ed25519_public(raw))


def _x(public_key: Ed25519PublicKey) -> str:
    return b64url_encode(public_key.public_bytes_raw())


# The one-line form `lifeline keygen` prints for pasting: no quotes or braces for a shell to eat.
PUBLIC_KEY_LINE_PREFIX = "ed25519:"
MAX_PUBLIC_KEY_TEXT = 2048


def ed25519_fingerprint(public_key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key in 16 groups of 4 hex digits, to compare over the phone."""
    digest = hashlib.sha256(public_key.public_bytes_raw()).hexdigest()
    return " ".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def public_key_line(public_key: Ed25519PublicKey) -> str:
    """`ed25519:<x>`: the public key in one pasteable line (x as in the JWK)."""
    return PUBLIC_KEY_LINE_PREFIX + _x(public_key)


def parse_public_key_text(text: str) -> Ed25519PublicKey:
    """An Ed25519 public key from its one-line form or a public JWK as JSON; ValueError else."""
    text = text.strip()
    if not text or len(text) > MAX_PUBLIC_KEY_TEXT:
        raise ValueError("empty or oversized public key")
    if text.startswith(PUBLIC_KEY_LINE_PREFIX):
        return _ed25519_public(b64url_decode(text.removeprefix(PUBLIC_KEY_LINE_PREFIX)))
    try:
        jwk = json.loads(text)
    except ValueError:
        raise ValueError("neither an ed25519: line nor a JWK") from None
    try:
        return public_key_from_jwk(jwk if isinstance(jwk, dict) else {})
    except (TypeError, KeyError):
        raise ValueError("not a usable Ed25519 JWK") from None
