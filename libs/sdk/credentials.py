"""Client key material: generate an Ed25519 key, store it safely, load it, show it."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
import unicodedata
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from libs.common.auth.jwk import (
    ed25519_fingerprint,
    ed25519_public_jwk,
    ed25519_thumbprint,
    public_key_line,
)
from libs.common.errors import LifelineError
from libs.sdk._pkcs8 import encrypted_pkcs8_pem


class CredentialError(LifelineError):
    """A key file cannot be written, read or trusted."""

    status = 400
    code = "credential_error"


def generate_private_key() -> Ed25519PrivateKey:
    """A new Ed25519 private key (the client keeps it; only the public half is registered)."""
    return Ed25519PrivateKey.generate()


def save_private_key(
    key: Ed25519PrivateKey,
    path: str | os.PathLike[str],
    passphrase: str | bytes | None = None,
    *,
    overwrite: bool = False,
) -> None:
    """Write `key` as PKCS#8 PEM (scrypt-encrypted with a passphrase), mode 0600, atomically."""
    target = Path(path)
    if passphrase is not None:
        pem = encrypted_pkcs8_pem(key, _passphrase_bytes(passphrase))
    else:
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    # mkstemp creates the file 0600 whatever the umask, so the key is never readable by others,
    # not even for an instant; the complete file then appears under its name in one step.
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(tmp_name, target)
        else:
            # link() fails if the name exists, so a registered key is never silently replaced.
            try:
                os.link(tmp_name, target)
            except FileExistsError:
                raise CredentialError("a key file already exists at this path") from None
        _fsync_directory(target.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)


def load_private_key(
    path: str | os.PathLike[str],
    passphrase: str | bytes | None = None,
    *,
    check_permissions: bool = True,
) -> Ed25519PrivateKey:
    """Read an Ed25519 PKCS#8 PEM key; refuses files others can read (like ssh does)."""
    target = Path(path)
    try:
        info = target.stat()
        data = target.read_bytes()
    except OSError as exc:
        raise CredentialError("cannot read the key file") from exc
    if not stat.S_ISREG(info.st_mode):
        raise CredentialError("the key path is not a regular file")
    if check_permissions and os.name == "posix" and info.st_mode & 0o077:
        raise CredentialError("the key file is readable by others; chmod 600 it")
    encrypted = b"ENCRYPTED PRIVATE KEY" in data
    if encrypted and passphrase is None:
        raise CredentialError("the key file is encrypted; a passphrase is required")
    password = _passphrase_bytes(passphrase) if encrypted and passphrase is not None else None
    try:
        key = serialization.load_pem_private_key(data, password=password)
    except (ValueError, TypeError) as exc:
        raise CredentialError("cannot load the key (wrong passphrase or not a key)") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise CredentialError("the key file does not hold an Ed25519 key")
    return key


def public_jwk(key: Ed25519PrivateKey | Ed25519PublicKey) -> dict[str, str]:
    """The public JWK an administrator registers (kid = RFC 7638 thumbprint)."""
    return ed25519_public_jwk(_public(key))


def key_id(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The kid of this key: its RFC 7638 thumbprint, the same value the registry computes."""
    return ed25519_thumbprint(_public(key))


def fingerprint(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key in groups of 4 hex digits, to compare over the phone."""
    return ed25519_fingerprint(_public(key))


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """`ed25519:<x>`: the public key in one line, for the administrator to paste."""
    return public_key_line(_public(key))


def _public(key: Ed25519PrivateKey | Ed25519PublicKey) -> Ed25519PublicKey:
    return key.public_key() if isinstance(key, Ed25519PrivateKey) else key


def _passphrase_bytes(passphrase: str | bytes) -> bytes:
    if isinstance(passphrase, str):
        # The same passphrase typed on two systems can arrive in different Unicode forms.
        passphrase = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    if not passphrase:
        raise CredentialError("an empty passphrase would not protect the key")
    return passphrase


def _fsync_directory(directory: Path) -> None:
    # Makes the new name itself durable; not possible (nor needed) on every platform.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
