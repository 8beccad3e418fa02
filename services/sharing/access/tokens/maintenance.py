"""Periodic upkeep: signing-key rotation on one replica at a time, pruning of assertion ids."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.db import transaction
from services.sharing.access.tokens import repository as tokens_repo
from services.sharing.access.tokens.keystore import SigningKeystore

log = logging.getLogger(__name__)

SIGNING_KEYS_LEASE = "signing-keys"


class Maintenance:
    """Runs `tick()` every `interval` seconds until stopped; a failed tick is retried later."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        keystore: SigningKeystore,
        *,
        interval: float = 30.0,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self._sessions = sessions
        self._keystore = keystore
        self._interval = interval
        self._clock = clock
        # Random per process: a restarted replica must not inherit its predecessor's lease.
        self.holder = secrets.token_hex(8)

    async def run(self, stop: asyncio.Event) -> None:
        """Tick until `stop` is set."""
        while not stop.is_set():
            try:
                await self.tick()
            except Exception as exc:  # the database or the file system may be briefly away
                log.warning("maintenance tick failed", extra={"reason": type(exc).__name__})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._interval)

    async def tick(self) -> bool:
        """One round; True if this replica held the lease and changed the signing keys."""
        now = self._clock.now()
        async with transaction(self._sessions) as session:
            await tokens_repo.prune_jtis(session, now)
        async with transaction(self._sessions) as session:
            # The lease outlives a few missed ticks, so a slow holder is not replaced at once.
            held = await tokens_repo.try_lease(
                session, SIGNING_KEYS_LEASE, self.holder, 3 * self._interval, now
            )
        if not held:
            return False
        changed = await asyncio.to_thread(self._keystore.maintain)
        if changed:
            log.info(
                "signing keys updated", extra={"key_id": self._keystore.keyring().active().kid}
            )
        return changed
