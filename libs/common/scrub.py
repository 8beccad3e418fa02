"""Scrubbing a SQLite WAL soon after rows that held secrets were deleted.

`secure_delete` zeroes a deleted row in the database pages, but the frames that wrote it stay
in the write-ahead log until a checkpoint empties it, and an open database never truncates its
WAL by itself. A service whose rows hold secrets until relayed (intake's outbox: the sealed
report) marks the WAL dirty when it deletes them; the scrubber then runs
`wal_checkpoint(TRUNCATE)`. PostgreSQL needs none of this (see `docs/vault.md` on VACUUM).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.db import checkpoint_wal, is_sqlite, write_lock

log = logging.getLogger(__name__)


class WalScrubber:
    """Empties the WAL of a SQLite database within `delay` seconds of being marked dirty."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, delay: float = 1.0) -> None:
        self.sessions = sessions
        self.delay = delay
        # A plain flag: the relay marks it from a worker thread, where an asyncio.Event is unsafe.
        self._dirty = False

    def dirty(self) -> None:
        """Secrets were deleted: scrub soon (a burst of deletions costs one checkpoint)."""
        self._dirty = True

    async def run(self, stop: asyncio.Event) -> None:
        """Scrub whenever dirty, until stopped; a checkpoint a reader blocked is tried again."""
        engine = self.sessions.kw["bind"]
        if not is_sqlite(str(engine.url)):
            return
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.delay)
            if not self._dirty:
                continue
            self._dirty = False
            try:
                # Our own writers wait meanwhile rather than collide with the checkpoint.
                async with write_lock(self.sessions) or contextlib.nullcontext():
                    done = await checkpoint_wal(engine)
            except Exception as exc:
                log.warning("wal scrub failed", extra={"reason": type(exc).__name__})
                done = False
            self._dirty = self._dirty or not done
