"""`report.stored` sent the moment its report commits; the outbox bookkeeping rides the next store.

The store claims its events' outbox rows from the relay before the commit, and once committed
hands them to the publisher (`libs.common.publisher`). The rows of events JetStream has
acknowledged are deleted in the next store's transaction, or in one of their own once no store
has come for `IDLE_BOOKKEEPING_S`. The relay stays the safety net: it publishes whatever was
not acknowledged (released to it) and, after a crash, whatever was committed but not forgotten.
Without this, each report costs the relay a read and a transaction of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, cast

from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.outbox import OutboxRelay, Unsent, unsent
from libs.common.publisher import Publisher
from libs.common.threaded import ThreadSession, ThreadTransactions, run_inline

T = TypeVar("T")
Work = Callable[[AsyncSession], Coroutine[Any, Any, T]]

# How long acknowledged events may wait for a store to carry their bookkeeping.
IDLE_BOOKKEEPING_S = 0.2


class Announcer:
    """Runs the store's transactions (with the pending bookkeeping) and publishes after each."""

    def __init__(self, threads: ThreadTransactions, relay: OutboxRelay) -> None:
        self.threads = threads
        self.relay = relay
        self.publisher = Publisher(relay.runtime, relay)
        self._last = time.monotonic()

    async def commit(self, work: Work[T], events: list[Unsent]) -> T:
        """Run `work` as one transaction in a worker thread that also forgets the events
        acknowledged since the last one; `events` (rows `work` writes) stay claimed meanwhile."""
        claimed = [e.event_id for e in events]
        self.publisher.claim(claimed)
        published = self.publisher.take()
        forget = self.relay.forget_blocking

        def run(conn: Connection) -> T:
            # The repositories are typed for `AsyncSession`; they use no more than ThreadSession.
            result = run_inline(work(cast(Any, ThreadSession(conn))))
            if published:
                forget(conn, published)
            return result

        try:
            result = await self.threads.write(run)
        except BaseException:
            self.publisher.give_back(published)
            self.publisher.release(claimed)
            raise
        self._last = time.monotonic()
        self.publisher.release(published)
        return result

    def claim_written(self, row: dict[str, Any], written: list[Unsent]) -> None:
        """From inside a `commit_deciding` transaction: this outbox row is written there."""
        self.publisher.claim([row["event_id"]])
        written.append(unsent(row))

    async def commit_deciding(self, work: Work[T], written: list[Unsent]) -> T:
        """`commit` for work that decides in its transaction which events it writes: it claims
        each there (`claim_written`, before the commit as `commit` does), sent once committed."""
        try:
            result = await self.commit(work, [])
        except BaseException:
            self.publisher.release([e.event_id for e in written])
            raise
        if written:
            await self.publisher.publish(list(written))
        return result

    async def run(self, stop: asyncio.Event) -> None:
        """Forget acknowledged events no store came to carry, until stopped."""
        try:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), IDLE_BOOKKEEPING_S)
                idle = time.monotonic() - self._last >= IDLE_BOOKKEEPING_S
                if self.publisher.acked and idle:
                    await self._bookkeeping()
        finally:
            await self.publisher.drain()
            await self._bookkeeping()

    async def _bookkeeping(self) -> None:
        async def nothing(session: AsyncSession) -> None:
            return None

        if self.publisher.acked:
            with contextlib.suppress(Exception):  # they stay for the next one, or the relay
                await self.commit(nothing, [])
