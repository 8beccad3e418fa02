"""What an adversary with a copy of a disk, and every key, can find of a report in it."""

from __future__ import annotations

import re
from pathlib import Path

from libs.common.crypto import hpke
from libs.common.crypto.encoding import b64u_decode
from libs.common.crypto.errors import DecryptionFailed, InvalidKey
from services.sharing.vault.keys.keystore import HpkeKeyStore

SEALED = re.compile(rb'"sealed":"([A-Za-z0-9_-]{40,})"')
# Base64url runs long enough to be a sealed report, wherever and however one was written.
B64 = re.compile(rb"[A-Za-z0-9_-]{200,}")


def store_bytes(root: Path) -> bytes:
    """Every file under `root`, as an attacker copying the directory gets it."""
    return b"".join(p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file())


def opened(blob: bytes, keys: HpkeKeyStore, report_id: str, partner_id: str) -> list[bytes]:
    """Every base64url run in `blob` that sharing's HPKE keys open as this report's copy."""
    info = hpke.report_seal_info(report_id=report_id, partner_id=partner_id)
    found = []
    for run in set(B64.findall(blob)) | set(SEALED.findall(blob)):
        try:
            found.append(keys.unseal(b64u_decode(run.decode()), info)[0])
        except (DecryptionFailed, InvalidKey, ValueError):
            continue
    return found
