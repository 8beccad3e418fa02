"""Sharing's versioned PRF keys: evaluate with a chosen version, rotate, retire.

Rotation: `add` a new version and make it current; clients re-derive their tokens under it;
tokens of older versions keep matching each other (never the new ones) until the older
version is `retire`d, after which evaluating under it is refused. Storing the seeds (only
the 32-byte seed per version is secret) is the job of sharing's key store.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from libs.common.errors import InvalidInput
from libs.common.identity import oprf

KEY_INFO = b"lifeline identity PRF"


def new_seed() -> bytes:
    """A fresh random seed for a new key version (the only secret the key store keeps)."""
    return secrets.token_bytes(oprf.SEED_BYTES)


@dataclass
class PrfKeyRing:
    """Active PRF keys by version; `current` is what clients are told to use."""

    keys: dict[int, oprf.KeyPair] = field(default_factory=dict, repr=False)
    current: int | None = None

    def add(self, version: int, seed: bytes, *, make_current: bool = True) -> oprf.KeyPair:
        """Derive and hold the key of `version` from its stored seed."""
        if version in self.keys:
            raise ValueError(f"PRF key version {version} already exists")
        if self.keys and version <= max(self.keys):
            raise ValueError("a new PRF key version must be higher than every existing one")
        key = oprf.derive_key_pair(seed, KEY_INFO, version)
        self.keys[version] = key
        if make_current:
            self.current = version
        return key

    def retire(self, version: int) -> None:
        """Stop evaluating under `version` (its tokens then only match what exists)."""
        if version == self.current:
            raise ValueError("the current PRF key version cannot be retired")
        self.keys.pop(version, None)

    def evaluate(self, elements: Sequence[bytes], version: int | None = None) -> list[bytes]:
        """BlindEvaluate a batch under `version` (default: current); unknown versions refused."""
        chosen = self.current if version is None else version
        key = self.keys.get(chosen) if chosen is not None else None
        if key is None:
            raise InvalidInput("unknown or retired PRF key version", fields=[{"field": "version"}])
        return oprf.evaluate(key, elements)
