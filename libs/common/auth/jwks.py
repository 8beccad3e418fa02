"""Per-issuer cache of JWKS verification keys with rate-limited refresh on an unknown kid."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from libs.common.auth.jwk import is_safe_kid, public_key_from_jwk

log = logging.getLogger("libs.common.auth")

JwksFetch = Callable[[], Awaitable[Mapping[str, Any]]]


@dataclass(slots=True)
class _IssuerKeys:
    fetch: JwksFetch
    keys: dict[str, Ed25519PublicKey] = field(default_factory=dict)
    last_attempt: float | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class JwksCache:
    """Verification keys per issuer, fetched only through the injected callables.

    The token never influences where keys come from: no jku/x5u, just (issuer, kid) lookups in
    documents fetched from the configured source. An unknown kid triggers at most one refresh
    per `min_refresh_interval` per issuer, so a flood of made-up kids cannot turn every
    request into a JWKS fetch.
    """

    def __init__(
        self,
        fetchers: Mapping[str, JwksFetch],
        *,
        min_refresh_interval: float = 30.0,
        fetch_timeout: float = 5.0,
        max_keys: int = 32,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not fetchers:
            raise ValueError("at least one issuer is required")
        self._issuers = {iss: _IssuerKeys(fetch) for iss, fetch in fetchers.items()}
        self._min_interval = min_refresh_interval
        self._timeout = fetch_timeout
        self._max_keys = max_keys
        self._clock = clock

    @property
    def issuers(self) -> frozenset[str]:
        """The issuers whose tokens can be verified."""
        return frozenset(self._issuers)

    def get(self, issuer: str, kid: str) -> Ed25519PublicKey | None:
        """The cached key for (issuer, kid), without any fetch."""
        entry = self._issuers.get(issuer)
        return None if entry is None else entry.keys.get(kid)

    def kids(self, issuer: str) -> frozenset[str]:
        """The key ids the issuer's last good JWKS listed."""
        entry = self._issuers.get(issuer)
        return frozenset(entry.keys) if entry is not None else frozenset()

    async def key_for(self, issuer: str, kid: str) -> Ed25519PublicKey | None:
        """The key for (issuer, kid), refreshing that issuer's JWKS once if the kid is unknown."""
        entry = self._issuers.get(issuer)
        if entry is None:
            return None
        key = entry.keys.get(kid)
        if key is not None:
            return key
        async with entry.lock:
            # Another request may have refreshed while this one waited for the lock.
            key = entry.keys.get(kid)
            if key is None and self._may_refresh(entry):
                await self._refresh(issuer, entry)
                key = entry.keys.get(kid)
        return key

    async def refresh(self, issuer: str, *, expected: bool = False) -> bool:
        """Fetch the issuer's JWKS now (for startup and a periodic task); True on success.
        `expected`: a failure is no news (the issuer is starting) and is logged as info."""
        entry = self._issuers[issuer]
        async with entry.lock:
            return await self._refresh(issuer, entry, expected=expected)

    async def refresh_all(self) -> None:
        """Refresh every issuer; failures keep the previous keys."""
        for issuer in self._issuers:
            await self.refresh(issuer)

    def load(self, issuer: str, document: Mapping[str, Any]) -> None:
        """Replace an issuer's keys from a JWKS document (e.g. sharing seeding its own keys)."""
        keys = self._parse(issuer, document)
        if keys is None:
            raise ValueError("invalid JWKS document")
        self._issuers[issuer].keys = keys

    def _may_refresh(self, entry: _IssuerKeys) -> bool:
        last = entry.last_attempt
        return last is None or self._clock() - last >= self._min_interval

    async def _refresh(self, issuer: str, entry: _IssuerKeys, *, expected: bool = False) -> bool:
        entry.last_attempt = self._clock()
        try:
            async with asyncio.timeout(self._timeout):
                document = await entry.fetch()
        except Exception as exc:  # the source is remote: keep serving the keys we have
            level = logging.INFO if expected else logging.WARNING
            reason = type(exc).__name__
            log.log(level, "jwks refresh failed", extra={"url": issuer, "reason": reason})
            return False
        keys = self._parse(issuer, document)
        if keys is None:
            return False
        entry.keys = keys
        log.debug("jwks refreshed", extra={"url": issuer, "count": len(keys)})
        return True

    def _parse(self, issuer: str, document: object) -> dict[str, Ed25519PublicKey] | None:
        raw = document.get("keys") if isinstance(document, Mapping) else None
        if not isinstance(raw, list) or len(raw) > self._max_keys:
            log.warning("jwks document rejected", extra={"url": issuer, "reason": "shape"})
            return None
        keys: dict[str, Ed25519PublicKey] = {}
        for jwk in raw:
            kid = jwk.get("kid") if isinstance(jwk, Mapping) else None
            if not is_safe_kid(kid):
                continue
            if kid in keys:
                # Two keys under one kid would make the choice of key ambiguous.
                log.warning("jwks document rejected", extra={"url": issuer, "reason": "dup_kid"})
                return None
            try:
                keys[kid] = public_key_from_jwk(jwk)
            except (ValueError, KeyError, TypeError):
                log.warning("jwks key skipped", extra={"url": issuer, "key_id": kid})
        return keys
