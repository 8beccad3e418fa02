"""Sharing's sealing key as intake sees it: fetched, accepted only if pinned, cached on disk."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx

from libs.common.clock import Clock
from libs.common.crypto.errors import InvalidKey
from libs.common.crypto.hpke_keys import HpkePublicKey, dump_public_key, load_public_key
from libs.common.errors import Unavailable
from services.intake.settings import normalise_fingerprint

log = logging.getLogger(__name__)

WELL_KNOWN = "/.well-known/lifeline/hpke-keys"


class SealingKey:
    """The public key reports are sealed to; intake never holds a key that can open them."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        pinned: frozenset[str],
        cache_file: Path,
        *,
        clock: Clock,
        ttl: float = 300,
    ) -> None:
        self.http = http
        self.pinned = pinned
        self.cache_file = cache_file
        self.clock = clock
        self.ttl = ttl
        self._key: HpkePublicKey | None = None
        self._fetched = 0.0
        self._lock = asyncio.Lock()

    async def current(self) -> HpkePublicKey:
        """The pinned active key; a stale or on-disk copy serves while sharing is unreachable."""
        if self._key is not None and self.clock.monotonic() - self._fetched < self.ttl:
            return self._key
        async with self._lock:
            if self._key is not None and self.clock.monotonic() - self._fetched < self.ttl:
                return self._key
            try:
                self._key = await self._fetch()
                self._fetched = self.clock.monotonic()
                self.cache_file.parent.mkdir(parents=True, exist_ok=True)
                self.cache_file.write_text(dump_public_key(self._key))
            except (httpx.HTTPError, ValueError, KeyError, InvalidKey) as exc:
                log.warning("sealing key not refreshed", extra={"reason": type(exc).__name__})
                self._key = self._key or self._from_disk()
                self._fetched = self.clock.monotonic() - self.ttl + 5  # retry soon
            if self._key is None:
                raise Unavailable("sharing's sealing key is not available yet")
            return self._key

    async def _fetch(self) -> HpkePublicKey:
        resp = await self.http.get(WELL_KNOWN)
        resp.raise_for_status()
        for entry in resp.json()["keys"]:
            if entry.get("state") != "active":
                continue
            key = load_public_key(entry["public_key"])
            # The fingerprint is recomputed from the key itself, never taken from the answer.
            if self._is_pinned(key):
                return key
        raise ValueError("no active sealing key with a pinned fingerprint")

    def _from_disk(self) -> HpkePublicKey | None:
        try:
            key = load_public_key(self.cache_file.read_text().strip())
        except (OSError, ValueError, InvalidKey):
            return None
        return key if self._is_pinned(key) else None

    def _is_pinned(self, key: HpkePublicKey) -> bool:
        return normalise_fingerprint(key.fingerprint()) in self.pinned
