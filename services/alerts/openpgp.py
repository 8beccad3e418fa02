"""OpenPGP encryption of alert emails to a key the lawyer registered (Sequoia-PGP, pysequoia).

Sequoia is a maintained, memory-safe OpenPGP implementation; `pysequoia` ships it as a wheel
with no system dependency (like rbcl for the OPRF). Encrypting to a v4 key, which is what
GnuPG makes, yields a message GnuPG 2.2+ decrypts (checked by the tests with real gpg when it
is installed, and always by decrypting with Sequoia itself).
"""

from __future__ import annotations

import warnings

import pysequoia

from libs.common.errors import InvalidInput


def _field_error(detail: str, reason: str) -> InvalidInput:
    return InvalidInput(detail, fields=[{"path": "pgp_public_key", "reason": reason}])


def _cert(armored: str) -> pysequoia.Cert:
    try:
        return pysequoia.Cert.from_bytes(armored.encode())
    except Exception:  # the parser raises its own error types for every kind of bad input
        raise _field_error("not a usable OpenPGP public key", "unparsable") from None


def check_key(armored: str) -> None:
    """Refuse private keys, revoked keys and keys nothing can be encrypted to."""
    cert = _cert(armored)
    with warnings.catch_warnings():
        # Deprecated in favour of parsing as a Tsk, which also accepts public keys: useless here.
        warnings.simplefilter("ignore", DeprecationWarning)
        secret = cert.has_secret_keys
    if secret:
        raise _field_error("that is a private key: register the public key only", "private key")
    if cert.is_revoked:
        raise _field_error("the key is revoked", "revoked")
    try:
        encrypt(armored, b"probe")
    except ValueError:
        raise _field_error("the key has no usable encryption subkey", "cannot encrypt") from None


def encrypt(armored: str, data: bytes) -> bytes:
    """ASCII-armoured OpenPGP message of `data` for the key; ValueError if it cannot be done."""
    try:
        return pysequoia.encrypt(data, recipients=[pysequoia.Cert.from_bytes(armored.encode())])
    except Exception as exc:  # expired, no encryption subkey, unparsable …
        raise ValueError("encryption to this key failed") from exc
