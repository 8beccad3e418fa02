"""Release requests published the moment their match commits, as intake publishes its reports.

The relay would find each request by reading the outbox (a read on the event loop's async
session, per matched report) and delete it in a transaction of its own. Instead the match
claims its requests from the relay before it commits and sends them right after; once
JetStream acknowledges them, their outbox rows go in the next delivery-bookkeeping transaction
(`delivery/recorder.py`). Whatever is not acknowledged, or not forgotten, is released to the
relay, which stays the safety net (and, after a crash, publishes what was committed but never
forgotten; JetStream stores a repeated `Nats-Msg-Id` once).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.outbox import OutboxRelay, Unsent, unsent
from libs.common.runtime import Runtime
from services.alerts.delivery.recorder import Work
from services.alerts.matching import repository as repo

log = logging.getLogger(__name__)


class Releases:
    """Sends committed release requests at once; forgets the acknowledged ones in `bookkeep`."""

    def __init__(
        self, runtime: Runtime, relay: OutboxRelay, bookkeep: Callable[[Work], Awaitable[Any]]
    ) -> None:
        self.runtime = runtime
        self.relay = relay
        self.bookkeep = bookkeep  # `Recorder.run`: shares the next bookkeeping transaction
        self._waiting: set[asyncio.Task[None]] = set()

    def claim(self, event_ids: Collection[str]) -> None:
        """Keep the relay off these rows; called inside the transaction that writes them (a
        worker thread's: one set update, atomic under the GIL), so it never sees them
        unclaimed."""
        self.relay.claimed.update(event_ids)

    def release(self, event_ids: Collection[str]) -> None:
        """Forgotten, or never acknowledged: the relay owns these rows (if any are left)."""
        self.relay.claimed.difference_update(event_ids)

    async def publish(self, rows: list[dict[str, Any]]) -> None:
        """Send the committed requests (outbox rows as written); acks awaited in the background."""
        events = [unsent(r) for r in rows]
        js, nc = self.runtime.js, self.runtime.nc
        if js is None or nc is None or not nc.is_connected:
            self._hand_back(events)
            return
        try:
            futures = await self.relay.send(js, events)
        except Exception as exc:  # committed: the relay publishes what was not sent
            log.warning("release request not sent", extra={"reason": type(exc).__name__})
            self._hand_back(events)
            return
        task = asyncio.create_task(self._settle(events, futures))
        self._waiting.add(task)
        task.add_done_callback(self._waiting.discard)

    async def _settle(self, events: list[Unsent], futures: list[asyncio.Future[Any]]) -> None:
        done: list[Unsent] = []
        forgotten = False
        try:
            done = await self.relay.settle(events, futures)
            if done:
                ids = [e.event_id for e in done]

                async def forget(session: AsyncSession) -> None:
                    await repo.forget_outbox(session, ids)

                await self.bookkeep(forget)
            forgotten = True
        except Exception as exc:
            log.warning("release request not forgotten", extra={"reason": type(exc).__name__})
        finally:
            if forgotten and len(done) == len(events):
                self.release([e.event_id for e in events])
            else:
                self._hand_back(events)

    def _hand_back(self, events: list[Unsent]) -> None:
        """The relay publishes (again: stored once) and deletes what is left of these."""
        self.release([e.event_id for e in events])
        self.relay.wake()

    async def drain(self) -> None:
        """Wait for the acks still outstanding (on shutdown)."""
        if self._waiting:
            await asyncio.gather(*self._waiting, return_exceptions=True)
