"""Publish a batch the moment it is committed; its bookkeeping waits for the next transaction.

A writer (intake's group commit, sharing's report store) claims a batch's outbox rows from the
relay before committing them and hands the committed batch here: its events are sent at once
(signed, with `Nats-Msg-Id`). Acknowledged event ids wait in `acked` until the writer's next
transaction deletes their outbox rows (`OutboxRelay.forget_blocking`); whatever is not
acknowledged is released to the relay, which stays the safety net (and, after a crash,
publishes what was committed but never forgotten).
"""

from __future__ import annotations

import asyncio
import logging

from libs.common.outbox import OutboxRelay, Unsent
from libs.common.runtime import Runtime

log = logging.getLogger(__name__)


class Publisher:
    """Sends committed events right away; collects the ids JetStream acknowledged."""

    def __init__(self, runtime: Runtime, relay: OutboxRelay) -> None:
        self.runtime = runtime
        self.relay = relay
        self.acked: list[str] = []
        self._waiting: set[asyncio.Task[None]] = set()

    def claim(self, event_ids: list[str]) -> None:
        """Keep the relay off these rows (claimed before their commit, so it never sees them
        unclaimed); `publish` or `release` ends the claim."""
        self.relay.claimed.update(event_ids)

    async def publish(self, events: list[Unsent]) -> None:
        """Send `events` (claimed, committed) now; their acks are awaited in the background."""
        js, nc = self.runtime.js, self.runtime.nc
        if js is None or nc is None or not nc.is_connected:
            self.release([e.event_id for e in events])  # the relay publishes them later
            return
        futures = await self.relay.send(js, events)
        task = asyncio.create_task(self._settle(events, futures))
        self._waiting.add(task)
        task.add_done_callback(self._waiting.discard)

    async def _settle(self, events: list[Unsent], futures: list[asyncio.Future[object]]) -> None:
        done: list[Unsent] = []
        try:
            done = await self.relay.settle(events, futures)
        finally:
            acked = {e.event_id for e in done}
            self.acked.extend(e.event_id for e in done)
            self.release([e.event_id for e in events if e.event_id not in acked])

    def take(self) -> list[str]:
        """The acknowledged ids the next transaction forgets (`forgotten` or `give_back` after)."""
        taken, self.acked = self.acked, []
        return taken

    def give_back(self, event_ids: list[str]) -> None:
        """The transaction that was to forget them failed: the next one will."""
        self.acked[:0] = event_ids

    def release(self, event_ids: list[str]) -> None:
        """Forgotten, or never acknowledged: the relay owns these rows (if any are left) again."""
        self.relay.claimed.difference_update(event_ids)

    async def drain(self) -> None:
        """Wait for the acks still outstanding (on shutdown)."""
        if self._waiting:
            await asyncio.gather(*self._waiting, return_exceptions=True)
