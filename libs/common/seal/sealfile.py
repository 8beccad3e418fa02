"""The seal file: how this data directory's root key is wrapped (not secret in itself).

`<data>/seal.json` records the Argon2id parameters, salt and the passphrase-wrapped root key,
the SLIP-39 share set (threshold, count, identifier), the KMS-wrapped root key and where that KMS
is, a check value, and whether the root key is kept in the clear beside the data (development
mode, `dev-root-key`).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from libs.common.crypto.encoding import b64u_decode, b64u_encode
from libs.common.errors import LifelineError
from libs.common.seal.domain import (
    ROOT_KEY_BYTES,
    Argon2Params,
    check_value,
    is_sealed,
    seal_blob,
    split_shares,
    wrap_with_passphrase,
)
from libs.common.secretfile import read_private, write_private

SEAL_FORMAT = "lifeline-seal/1"
SEAL_FILE = "seal.json"
DEV_ROOT_KEY_FILE = "dev-root-key"


class SealFileError(LifelineError):
    """The seal file is missing, corrupt, or the data directory is sealed already."""

    status = 500
    code = "seal_file"


@dataclass(frozen=True)
class SealDocument:
    """What `seal.json` says."""

    check: str
    passphrase: dict[str, Any] | None = None
    shares: dict[str, int] | None = None
    dev: bool = False
    kms: dict[str, str] | None = None  # {url, key, wrapped}: the root key wrapped by a KMS key

    @property
    def methods(self) -> list[str]:
        """The unseal methods this seal offers."""
        named = {"passphrase": self.passphrase, "shares": self.shares, "kms": self.kms}
        return [name for name, on in (named | {"dev": self.dev}).items() if on]

    def dump(self) -> bytes:
        """The file's bytes."""
        doc: dict[str, Any] = {"format": SEAL_FORMAT, "methods": self.methods}
        doc |= {"check": self.check, "passphrase": self.passphrase, "shares": self.shares}
        if self.kms:
            doc["kms"] = self.kms
        return (json.dumps(doc, indent=2) + "\n").encode()


def load(path: Path) -> SealDocument | None:
    """The seal file at `path`, or None when the data directory is not sealed."""
    if not path.exists():
        return None
    try:
        doc = json.loads(read_private(path, seal=False))
        shares, kms = doc.get("shares"), doc.get("kms")
        document = SealDocument(
            check=str(doc["check"]),
            passphrase=doc.get("passphrase"),
            shares={k: int(shares[k]) for k in ("threshold", "count", "identifier")}
            if shares
            else None,
            dev="dev" in doc.get("methods", []),
            kms={k: _text(kms[k]) for k in ("url", "key", "wrapped")} if kms else None,
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        document = None
    if document is None or doc.get("format") != SEAL_FORMAT:
        raise SealFileError(f"{path} is not a Lifeline seal file")
    return document


def _text(value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("not a string")
    return value


def read_dev_root(seal_path: Path) -> bytes:
    """The root key kept beside the data in development mode."""
    raw = read_private(seal_path.parent / DEV_ROOT_KEY_FILE, seal=False)
    root = b64u_decode(raw.decode().strip())
    if len(root) != ROOT_KEY_BYTES:
        raise SealFileError("the development root key is not 32 bytes")
    return root


@dataclass(frozen=True)
class Created:
    """A new seal: its document, the root key, and the shares to hand out once."""

    document: SealDocument
    root: bytes
    shares: list[str] = field(default_factory=list)


def create(
    seal_path: Path,
    *,
    passphrase: str | None = None,
    threshold: int = 3,
    count: int = 5,
    dev: bool = False,
    params: Argon2Params | None = None,
    kms: Callable[[bytes], dict[str, str]] | None = None,
) -> Created:
    """Make a root key and the seal file; the shares are returned, never stored.

    `kms` wraps the new root key for the seal's `kms` entry (`seal.kms.wrapper`); it runs
    first, so a KMS that refuses leaves nothing behind.
    """
    if seal_path.exists():
        raise SealFileError(f"{seal_path} exists: this data directory has a root key already")
    root = secrets.token_bytes(ROOT_KEY_BYTES)
    kms_entry = kms(root) if kms else None
    wrapped = (
        wrap_with_passphrase(root, passphrase, params or Argon2Params()) if passphrase else None
    )
    shares: list[str] = []
    share_set = None
    if not dev:
        identifier, shares = split_shares(root, threshold, count)
        share_set = {"threshold": threshold, "count": count, "identifier": identifier}
    if dev:
        write_private(seal_path.parent / DEV_ROOT_KEY_FILE, b64u_encode(root).encode(), seal=False)
    document = SealDocument(check_value(root), wrapped, share_set, dev, kms_entry)
    seal_plain_files(seal_path.parent, root)
    write_private(seal_path, document.dump(), seal=False)
    return Created(document, root, shares)


def seal_plain_files(data_dir: Path, root: bytes) -> list[Path]:
    """Seal the key files a data directory already holds in the clear (its keys and bus keys).

    nats-server's own key stays plain: nats-server reads it from the file (docs/sealing.md).
    """
    found = [p for p in (data_dir / "keys").glob("*") if not p.name.startswith(".")]
    found += [p for p in (data_dir / "bus").glob("*-key.pem") if p.name != "server-key.pem"]
    done = []
    for path in sorted(found):
        if not path.is_file() or path.name.endswith(".lock"):
            continue
        raw = read_private(path, seal=False)
        if is_sealed(raw):
            continue
        write_private(path, seal_blob(root, path.name, raw), seal=False)
        done.append(path)
    return done
