"""Passphrase-encrypted PKCS#8 (PBES2 with scrypt + AES-256-CBC, RFC 8018 / RFC 7914)."""

from __future__ import annotations

import base64
import os

from cryptography.hazmat.primitives import padding, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

# cryptography's BestAvailableEncryption uses PBKDF2 with only 2,048 iterations, which a
# seized laptop's passphrase would not survive; scrypt at the OWASP "N=2^14, r=8, p=5"
# point costs an attacker ~16 MiB and real CPU per guess, and stays within OpenSSL's
# default 32 MiB scrypt memory cap so `openssl pkcs8` and cryptography can still open it.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 5

_OID_PBES2 = "1.2.840.113549.1.5.13"
_OID_SCRYPT = "1.3.6.1.4.1.11591.4.11"
_OID_AES256_CBC = "2.16.840.1.101.3.4.1.42"


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


def _seq(*items: bytes) -> bytes:
    return _der(0x30, b"".join(items))


def _int(value: int) -> bytes:
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big"))


def _octets(value: bytes) -> bytes:
    return _der(0x04, value)


def _oid(dotted: str) -> bytes:
    first, second, *rest = (int(part) for part in dotted.split("."))
    out = bytearray([40 * first + second])
    for arc in rest:
        value = arc
        chunk = [value & 0x7F]
        value >>= 7
        while value:
            chunk.append(0x80 | (value & 0x7F))
            value >>= 7
        out.extend(reversed(chunk))
    return _der(0x06, bytes(out))


def encrypted_pkcs8_pem(
    key: Ed25519PrivateKey,
    passphrase: bytes,
    *,
    n: int = SCRYPT_N,
    r: int = SCRYPT_R,
    p: int = SCRYPT_P,
) -> bytes:
    """Serialise `key` as an `ENCRYPTED PRIVATE KEY` PEM protected by scrypt + AES-256-CBC."""
    if not passphrase:
        raise ValueError("an empty passphrase would not protect the key")
    plain = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    salt, iv = os.urandom(16), os.urandom(16)
    kek = Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plain) + padder.finalize()
    encryptor = Cipher(algorithms.AES(kek), modes.CBC(iv)).encryptor()
    ciphertext = encryptor.update(padded) + encryptor.finalize()
    scrypt_params = _seq(_octets(salt), _int(n), _int(r), _int(p), _int(32))
    pbes2_params = _seq(
        _seq(_oid(_OID_SCRYPT), scrypt_params),
        _seq(_oid(_OID_AES256_CBC), _octets(iv)),
    )
    info = _seq(_seq(_oid(_OID_PBES2), pbes2_params), _octets(ciphertext))
    body = base64.encodebytes(info).replace(b"\n", b"")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return (
        b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
        + b"\n".join(lines)
        + b"\n-----END ENCRYPTED PRIVATE KEY-----\n"
    )
