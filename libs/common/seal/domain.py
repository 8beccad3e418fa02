"""Pure sealing rules: keys derived from the root key, sealed blobs, the passphrase wrap, shares.

A sealed file is AES-256-GCM under a key derived from the root key with HKDF-SHA256, with a
distinct `info` per purpose (the file's name) and a fresh salt per write; the purpose is also
the associated data, so a sealed file copied over another one does not open.
"""

from __future__ import annotations

import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from shamir_mnemonic import combine_mnemonics, generate_mnemonics
from shamir_mnemonic.share import Share
from shamir_mnemonic.utils import MnemonicError

from libs.common.crypto.encoding import b64u_decode, b64u_encode

ROOT_KEY_BYTES = 32
# The seal's two routes on every service (`libs.common.seal.api`), as `lifeline unseal` calls them.
STATUS_PATH = "/v1/sys/seal-status"
UNSEAL_PATH = "/v1/sys/unseal"
SEALED_FORMAT = "lifeline-sealed/1"
_INFO = b"lifeline/seal/v1/"
_PASSPHRASE_AAD = b"lifeline/seal/v1/passphrase-wrap"


class UnsealError(ValueError):
    """A passphrase, share or sealed blob does not open."""


def derive(root: bytes, purpose: str, salt: bytes | None = None) -> bytes:
    """The 32-byte key for one purpose; no two purposes share a key."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_INFO + purpose.encode())
    return hkdf.derive(root)


def check_value(root: bytes) -> str:
    """A public value that tells whether a reconstructed root key is this seal's."""
    return b64u_encode(derive(root, "check")[:16])


def matches(root: bytes, check: str) -> bool:
    """True if `root` is the key `check` was made from (constant time)."""
    return hmac.compare_digest(check_value(root), check)


def seal_blob(root: bytes, purpose: str, data: bytes) -> bytes:
    """`data` sealed for `purpose`, as a small JSON document."""
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    aad = purpose.encode()
    ct = AESGCM(derive(root, f"file/{purpose}", salt)).encrypt(nonce, data, aad)
    doc = {
        "format": SEALED_FORMAT,
        "purpose": purpose,
        "salt": b64u_encode(salt),
        "nonce": b64u_encode(nonce),
        "ciphertext": b64u_encode(ct),
    }
    return (json.dumps(doc, indent=2) + "\n").encode()


def is_sealed(raw: bytes) -> bool:
    """Whether `raw` is a sealed blob (whatever it would open to)."""
    if not raw.lstrip().startswith(b"{"):
        return False
    try:
        doc = json.loads(raw)
    except ValueError:
        return False
    return isinstance(doc, dict) and doc.get("format") == SEALED_FORMAT


def open_blob(root: bytes, purpose: str, raw: bytes) -> bytes:
    """The data sealed for `purpose`; UnsealError if another key, purpose or a change."""
    try:
        doc = json.loads(raw)
        salt, nonce = b64u_decode(doc["salt"]), b64u_decode(doc["nonce"])
        ct = b64u_decode(doc["ciphertext"])
        key = derive(root, f"file/{purpose}", salt)
        return AESGCM(key).decrypt(nonce, ct, purpose.encode())
    except (ValueError, KeyError, TypeError, InvalidTag):
        raise UnsealError("the sealed file does not open with this root key") from None


@dataclass(frozen=True)
class Argon2Params:
    """Argon2id cost: RFC 9106's second recommended option (64 MiB, 3 passes, 4 lanes)."""

    memory_kib: int = 65536
    iterations: int = 3
    lanes: int = 4

    def stretch(self, passphrase: str, salt: bytes) -> bytes:
        """The 32-byte wrapping key of `passphrase`."""
        kdf = Argon2id(
            salt=salt,
            length=32,
            iterations=self.iterations,
            lanes=self.lanes,
            memory_cost=self.memory_kib,
        )
        return kdf.derive(passphrase.encode())


def wrap_with_passphrase(root: bytes, passphrase: str, params: Argon2Params) -> dict[str, Any]:
    """The root key wrapped under `passphrase`: what the seal file stores."""
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    key = params.stretch(passphrase, salt)
    return {
        "kdf": "argon2id",
        "memory_kib": params.memory_kib,
        "iterations": params.iterations,
        "lanes": params.lanes,
        "salt": b64u_encode(salt),
        "nonce": b64u_encode(nonce),
        "wrapped": b64u_encode(AESGCM(key).encrypt(nonce, root, _PASSPHRASE_AAD)),
    }


def unwrap_with_passphrase(wrap: dict[str, Any], passphrase: str) -> bytes:
    """The root key, or UnsealError if the passphrase is wrong."""
    params = Argon2Params(int(wrap["memory_kib"]), int(wrap["iterations"]), int(wrap["lanes"]))
    key = params.stretch(passphrase, b64u_decode(wrap["salt"]))
    try:
        return AESGCM(key).decrypt(
            b64u_decode(wrap["nonce"]), b64u_decode(wrap["wrapped"]), _PASSPHRASE_AAD
        )
    except InvalidTag:
        raise UnsealError("wrong passphrase") from None


def split_shares(root: bytes, threshold: int, count: int) -> tuple[int, list[str]]:
    """SLIP-39 mnemonics of `root`, any `threshold` of `count` recover it; and their set id."""
    if not 1 < threshold <= count <= 16:
        raise ValueError("shares: need 2 <= threshold <= count <= 16")
    mnemonics = generate_mnemonics(1, [(threshold, count)], root)[0]
    return Share.from_mnemonic(mnemonics[0]).identifier, mnemonics


@dataclass(frozen=True)
class ShareInfo:
    """What one mnemonic says about itself (checked by its RS1024 checksum)."""

    identifier: int
    index: int
    threshold: int


def read_share(mnemonic: str) -> ShareInfo:
    """Parse one mnemonic; UnsealError if it is not a valid SLIP-39 share."""
    try:
        share = Share.from_mnemonic(" ".join(mnemonic.lower().split()))
    except (MnemonicError, ValueError, KeyError):
        raise UnsealError("not a valid share (a word is wrong or missing)") from None
    return ShareInfo(share.identifier, share.index, share.member_threshold)


def combine_shares(mnemonics: list[str]) -> bytes:
    """The secret the mnemonics recover; UnsealError if they do not fit together."""
    try:
        secret: bytes = combine_mnemonics([" ".join(m.lower().split()) for m in mnemonics])
    except (MnemonicError, ValueError):
        raise UnsealError("these shares do not fit together") from None
    return secret
