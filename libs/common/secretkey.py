"""A service's own 32-byte secret (an HMAC or AES key) in a versioned key file.

File: ``{"format": "lifeline-secret-key/1", "key": "<base64url>"}``, mode 0600, a `KeyFile`:
created by the first replica to start, shared by every replica that mounts it.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from libs.common.crypto.encoding import b64u_decode, b64u_encode
from libs.common.keyfile import KeyCodec, KeyFile
from libs.common.secretfile import locked, read_private, write_private

KEY_BYTES = 32


def _parse(doc: dict[str, Any]) -> bytes:
    key = b64u_decode(str(doc["key"]))
    if len(key) != KEY_BYTES:
        raise ValueError("a secret key is 32 bytes")
    return key


def _dump(key: bytes) -> dict[str, Any]:
    return {"key": b64u_encode(key)}


CODEC: KeyCodec[bytes] = KeyCodec("lifeline-secret-key/1", _parse, _dump)


def load_or_create_secret_key(path: Path) -> bytes:
    """The 32-byte key kept at `path`; the first replica to start creates it."""
    _convert_raw(path)
    return KeyFile(path, CODEC, initial=lambda: secrets.token_bytes(KEY_BYTES)).current()


def _convert_raw(path: Path) -> None:
    # Shim: these keys used to be the 32 raw bytes alone. Such a file is rewritten as a key file
    # once, under the key file's lock (replicas starting together convert it once, and none
    # reads it half-written); drop this when no data directory holds a raw key any more.
    if not path.exists() or not _is_raw(path.read_bytes()):
        return
    with locked(path):
        raw = read_private(path, seal=False)
        if _is_raw(raw):
            doc = {"format": CODEC.format, **CODEC.dump(raw)}
            write_private(path, json.dumps(doc, indent=2).encode())


def _is_raw(data: bytes) -> bool:
    if len(data) != KEY_BYTES:
        return False
    try:
        json.loads(data)
    except ValueError:
        return True
    return False
