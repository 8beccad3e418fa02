"""Client key files: private, atomic, optionally scrypt-encrypted, never silently replaced."""

from __future__ import annotations

import base64
import os
import re
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from libs.common.auth.jwk import jwk_thumbprint
from libs.sdk.credentials import (
    CredentialError,
    fingerprint,
    generate_private_key,
    key_id,
    load_private_key,
    public_jwk,
    save_private_key,
)

SCRYPT_OID_DER = bytes.fromhex("06092b06010401da47040b")  # 1.3.6.1.4.1.11591.4.11


def _same(a: object, b: object) -> bool:
    return a.private_bytes_raw() == b.private_bytes_raw()  # type: ignore[attr-defined]


def test_plain_key_round_trip_with_mode_0600(tmp_path: Path) -> None:
    key = generate_private_key()
    path = tmp_path / "client.pem"
    old_umask = os.umask(0)  # even with a permissive umask the file must be private
    try:
        save_private_key(key, path)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert _same(load_private_key(path), key)
    assert [p.name for p in tmp_path.iterdir()] == ["client.pem"]  # no temp file left


def test_encrypted_key_uses_scrypt_and_needs_the_passphrase(tmp_path: Path) -> None:
    key = generate_private_key()
    path = tmp_path / "client.pem"
    save_private_key(key, path, passphrase="correct horse battery staple")
    pem = path.read_bytes()
    assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    der = base64.b64decode(b"".join(pem.splitlines()[1:-1]))
    assert SCRYPT_OID_DER in der
    assert key.private_bytes_raw() not in der
    assert _same(load_private_key(path, "correct horse battery staple"), key)
    with pytest.raises(CredentialError, match="wrong passphrase"):
        load_private_key(path, "wrong")
    with pytest.raises(CredentialError, match="passphrase is required"):
        load_private_key(path)


def test_passphrase_unicode_forms_are_equivalent(tmp_path: Path) -> None:
    key = generate_private_key()
    path = tmp_path / "client.pem"
    save_private_key(key, path, passphrase="Ёжик в тумане café")  # composed
    decomposed = "\u0415\u0308жик в тумане cafe\u0301"
    assert _same(load_private_key(path, decomposed), key)


def test_empty_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CredentialError):
        save_private_key(generate_private_key(), tmp_path / "k.pem", passphrase="")
    assert list(tmp_path.iterdir()) == []


def test_existing_key_is_not_replaced_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "client.pem"
    first, second = generate_private_key(), generate_private_key()
    save_private_key(first, path)
    with pytest.raises(CredentialError, match="already exists"):
        save_private_key(second, path)
    assert _same(load_private_key(path), first)
    save_private_key(second, path, overwrite=True)
    assert _same(load_private_key(path), second)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(list(tmp_path.iterdir())) == 1


def test_key_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "client.pem"
    save_private_key(generate_private_key(), path)
    path.chmod(0o644)
    with pytest.raises(CredentialError, match="readable by others"):
        load_private_key(path)
    load_private_key(path, check_permissions=False)


def test_non_ed25519_or_missing_files_are_refused(tmp_path: Path) -> None:
    rsa_path = tmp_path / "rsa.pem"
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_path.write_bytes(
        rsa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    rsa_path.chmod(0o600)
    with pytest.raises(CredentialError, match="Ed25519"):
        load_private_key(rsa_path)
    with pytest.raises(CredentialError):
        load_private_key(tmp_path / "missing.pem")
    with pytest.raises(CredentialError):
        load_private_key(tmp_path)
    garbage = tmp_path / "garbage.pem"
    garbage.write_bytes(b"not a key")
    garbage.chmod(0o600)
    with pytest.raises(CredentialError):
        load_private_key(garbage)


def test_public_jwk_kid_and_fingerprint() -> None:
    key = generate_private_key()
    jwk = public_jwk(key)
    assert set(jwk) == {"kty", "crv", "x", "kid", "use", "alg"}
    assert jwk["kid"] == key_id(key) == key_id(key.public_key()) == jwk_thumbprint(jwk)
    shown = fingerprint(key)
    assert re.fullmatch(r"[0-9a-f]{4}( [0-9a-f]{4}){15}", shown)
    assert fingerprint(key.public_key()) == shown
    assert fingerprint(generate_private_key()) != shown
