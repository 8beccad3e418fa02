"""Sharing's pseudonymisation (OPRF) key seeds: a versioned 0600 file that never leaves sharing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from libs.common.crypto.encoding import b64u_decode, b64u_encode
from libs.common.identity.keyring import PrfKeyRing, new_seed
from libs.common.secretfile import create_private, locked, read_private, write_private

_FORMAT = "lifeline-prf-keys/v1"


class PrfKeyStore:
    """Loads (and on first run creates) the PRF key versions; rotation adds a version."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.ring = PrfKeyRing()

    @classmethod
    def open(cls, path: Path) -> PrfKeyStore:
        """Open the seed file, creating version 1 if it does not exist."""
        create_private(path, _dump({"current": 1, "versions": [_version(1)]}))
        store = cls(path)
        store.reload()
        return store

    def reload(self) -> None:
        """Re-read the file (the admin CLI or another replica may have rotated)."""
        doc = json.loads(read_private(self.path))
        if doc.get("format") != _FORMAT:
            raise ValueError(f"{self.path} is not a Lifeline PRF key file")
        ring = PrfKeyRing()
        for entry in sorted(doc["versions"], key=lambda v: v["version"]):
            if entry["state"] == "active":
                ring.add(entry["version"], b64u_decode(entry["seed"]), make_current=False)
        ring.current = doc["current"]
        self.ring = ring

    def rotate(self) -> int:
        """Add a new current version; older ones keep evaluating until retired."""
        with locked(self.path):
            doc = json.loads(read_private(self.path))
            version: int = max(v["version"] for v in doc["versions"]) + 1
            doc["versions"].append(_version(version))
            doc["current"] = version
            write_private(self.path, _dump(doc))
        self.reload()
        return version

    def retire(self, version: int) -> None:
        """Destroy an old version's seed: its tokens can never be evaluated again."""
        with locked(self.path):
            doc = json.loads(read_private(self.path))
            if version == doc["current"]:
                raise ValueError("the current PRF key version cannot be retired")
            for entry in doc["versions"]:
                if entry["version"] == version:
                    entry.update(state="retired", seed=None)
            write_private(self.path, _dump(doc))
        self.reload()


def _version(version: int) -> dict[str, Any]:
    return {
        "version": version,
        "state": "active",
        "seed": b64u_encode(new_seed()),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _dump(doc: dict[str, Any]) -> bytes:
    return json.dumps({"format": _FORMAT, **doc}, indent=2).encode()
