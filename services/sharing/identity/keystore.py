"""Sharing's pseudonymisation (OPRF) key seeds: a versioned 0600 file that never leaves sharing.

File: ``{"format": "lifeline-prf-keys/v1", "current": N, "versions": [{"version", "state",
"seed", "created_at", "canonical"}]}`` with `seed` base64url, or null once retired (the seed
destroyed), and `canonical` the canonicaliser version clients tokenise with under that key
version (absent in files written before it existed: 1).
Every use re-reads the file if it changed, so a rotation by another replica is seen at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.crypto.encoding import b64u_decode, b64u_encode
from libs.common.identity.canonical import CANONICAL_VERSION
from libs.common.identity.keyring import PrfKeyRing, new_seed
from libs.common.keyfile import KeyCodec, KeyFile

ACTIVE, RETIRED = "active", "retired"


@dataclass(frozen=True)
class PrfVersion:
    """One key version: its seed while active, None once retired."""

    version: int
    state: str
    seed: bytes | None
    created_at: str
    # Bound at creation: every client must canonicalise with it under this key version.
    canonical: int = 1


@dataclass(frozen=True)
class PrfSeeds:
    """Every version of the file, the current one, and the ring that evaluates with them."""

    current: int
    versions: tuple[PrfVersion, ...]
    ring: PrfKeyRing = field(init=False, repr=False, compare=False)

    @property
    def canonical(self) -> int:
        """The canonicaliser version the current key version is bound to."""
        return next(v.canonical for v in self.versions if v.version == self.current)

    def __post_init__(self) -> None:
        ring = PrfKeyRing()
        for v in sorted(self.versions, key=lambda v: v.version):
            if (v.seed is None) != (v.state == RETIRED):
                raise ValueError("seed does not match the state")
            if v.seed is not None:
                ring.add(v.version, v.seed, make_current=False)
        ring.current = self.current
        object.__setattr__(self, "ring", ring)


def _parse(doc: dict[str, Any]) -> PrfSeeds:
    versions = tuple(
        PrfVersion(
            int(v["version"]),
            str(v["state"]),
            None if v["seed"] is None else b64u_decode(v["seed"]),
            str(v["created_at"]),
            int(v.get("canonical", 1)),
        )
        for v in doc["versions"]
    )
    return PrfSeeds(int(doc["current"]), versions)


def _dump(seeds: PrfSeeds) -> dict[str, Any]:
    return {
        "current": seeds.current,
        "versions": [
            {
                "version": v.version,
                "state": v.state,
                "seed": None if v.seed is None else b64u_encode(v.seed),
                "created_at": v.created_at,
                "canonical": v.canonical,
            }
            for v in seeds.versions
        ],
    }


_CODEC: KeyCodec[PrfSeeds] = KeyCodec("lifeline-prf-keys/v1", _parse, _dump)


class PrfKeyStore:
    """The PRF key versions (version 1 is created on first run); rotation adds a version.

    Each version is bound to the canonicaliser version of the code that created it (`canonical`,
    this code's `CANONICAL_VERSION` unless given): a new one needs a rotation.
    """

    def __init__(
        self, path: Path, *, clock: Clock = SYSTEM_CLOCK, canonical: int = CANONICAL_VERSION
    ) -> None:
        self.path = path
        self._clock = clock
        self.code_canonical = canonical
        self._file = KeyFile(path, _CODEC, initial=lambda: PrfSeeds(1, (self._new(1),)))

    @classmethod
    def open(
        cls, path: Path, *, clock: Clock = SYSTEM_CLOCK, canonical: int = CANONICAL_VERSION
    ) -> PrfKeyStore:
        """Open the seed file, creating version 1 if it does not exist."""
        return cls(path, clock=clock, canonical=canonical)

    def _new(self, version: int) -> PrfVersion:
        created = self._clock.now().isoformat(timespec="seconds")
        return PrfVersion(version, ACTIVE, new_seed(), created, self.code_canonical)

    def seeds(self) -> PrfSeeds:
        """Every version as stored now (re-read if another replica changed the file)."""
        return self._file.current()

    def ring(self) -> PrfKeyRing:
        """The keys that evaluate now, and the version clients should tokenise with."""
        return self._file.current().ring

    def rotate(self) -> int:
        """Add a new current version bound to this code's canonicaliser version."""

        def add(seeds: PrfSeeds) -> PrfSeeds:
            fresh = self._new(max(v.version for v in seeds.versions) + 1)
            return PrfSeeds(fresh.version, (*seeds.versions, fresh))

        return self._file.update(add).current

    def retire(self, version: int) -> None:
        """Destroy an old version's seed: its tokens can never be evaluated again."""

        def destroy(seeds: PrfSeeds) -> PrfSeeds:
            if version == seeds.current:
                raise ValueError("the current PRF key version cannot be retired")
            if all(v.version != version for v in seeds.versions):
                raise LookupError(f"no PRF key version {version}")
            kept = tuple(
                replace(v, state=RETIRED, seed=None) if v.version == version else v
                for v in seeds.versions
            )
            return PrfSeeds(seeds.current, kept)

        self._file.update(destroy)
