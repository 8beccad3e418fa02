"""The ack-link HMAC keys: a ring of at most two (current signs, previous verifies), by key id.

File: ``{"format": "lifeline-ack-link-keys/1", "keys": [{"id", "key", "created_at"}, …]}``, a
`KeyFile` (sealed like every key file, shared by every replica). The current key is replaced
once it is `rotate_s` old; the one before it keeps verifying the links it signed until they
expire (`rotate_s` ≥ the links' lifetime), and older keys are dropped: their links are refused.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from libs.common.crypto.encoding import b64u_decode, b64u_encode
from libs.common.keyfile import KeyCodec, KeyFile

KEY_BYTES = 32
KEPT = 2  # current and previous


@dataclass(frozen=True)
class LinkKey:
    """One HMAC key and the id links name it by."""

    id: int
    key: bytes = field(repr=False)
    created_at: int


def _parse(doc: dict[str, Any]) -> tuple[LinkKey, ...]:
    keys = tuple(
        LinkKey(int(k["id"]), b64u_decode(str(k["key"])), int(k["created_at"])) for k in doc["keys"]
    )
    if not keys or any(len(k.key) != KEY_BYTES for k in keys):
        raise ValueError("an ack-link key ring holds 32-byte keys")
    return keys


def _dump(keys: tuple[LinkKey, ...]) -> dict[str, Any]:
    return {
        "keys": [{"id": k.id, "key": b64u_encode(k.key), "created_at": k.created_at} for k in keys]
    }


CODEC: KeyCodec[tuple[LinkKey, ...]] = KeyCodec("lifeline-ack-link-keys/1", _parse, _dump)


def _new(key_id: int, now: float) -> LinkKey:
    return LinkKey(key_id, secrets.token_bytes(KEY_BYTES), int(now))


class LinkKeys:
    """The key ring in its file; `current` rotates it when the current key is due."""

    def __init__(self, path: Path, *, rotate_s: int, now: float) -> None:
        self.rotate_s = rotate_s
        self._file = KeyFile(path, CODEC, initial=lambda: (_new(1, now),))

    def current(self, now: float) -> LinkKey:
        """The key that signs now (a new one if the current one is `rotate_s` old)."""
        newest = self._file.current()[-1]
        if newest.created_at + self.rotate_s > now:
            return newest
        return self.rotate(now, due_only=True)[-1]

    def ring(self) -> tuple[LinkKey, ...]:
        """The ring as the file holds it now, oldest first."""
        return self._file.current()

    def get(self, key_id: int) -> LinkKey | None:
        """The key of this id if the ring still holds it (retired keys are gone)."""
        return next((k for k in self.ring() if k.id == key_id), None)

    def rotate(self, now: float, *, due_only: bool = False) -> tuple[LinkKey, ...]:
        """Add a new current key, keep the previous one, drop older ones."""

        def change(keys: tuple[LinkKey, ...]) -> tuple[LinkKey, ...]:
            # Under the file's lock on a fresh read: replicas due together rotate once.
            if due_only and keys[-1].created_at + self.rotate_s > now:
                return keys
            return (*keys, _new(keys[-1].id + 1, now))[-KEPT:]

        return self._file.update(change)
