"""Publish a batch the moment it is committed; its bookkeeping rides another transaction.

A writer (intake's group commit, sharing's report store, alerts' match) claims a batch's outbox
rows from the relay before committing them and hands the committed batch here: its events are
sent at once (signed, with `Nats-Msg-Id`). What JetStream acknowledged is forgotten later: either
its ids wait in `acked` until the writer's next transaction deletes their outbox rows
(`OutboxRelay.forget_blocking`), or a `forget` callback deletes them in a transaction the writer
shares with other bookkeeping. Whatever is not sent, acknowledged or forgotten goes back to the
relay, which stays the safety net (and, after a crash, publishes what was committed but never
forgotten; JetStream stores a repeated `Nats-Msg-Id` once).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection

from libs.common.outbox import OutboxRelay, Unsent
from libs.common.runtime import Runtime

log = logging.getLogger(__name__)

# Deletes the outbox rows of these acknowledged event ids, in a transaction of the writer's.
Forget = Callable[[list[str]], Awaitable[None]]


class Publisher:
    """Sends committed events right away; forgets, or collects, the ids JetStream acknowledged."""

    def __init__(self, runtime: Runtime, relay: OutboxRelay, forget: Forget | None = None) -> None:
        self.runtime = runtime
        self.relay = relay
        self.forget = forget
        self.acked: list[str] = []  # for the writer's next transaction (no `forget`)
        self._waiting: set[asyncio.Task[None]] = set()

    def claim(self, event_ids: Collection[str]) -> None:
        """Keep the relay off these rows (claimed before their commit, so it never sees them
        unclaimed; from a worker thread too: one set update, atomic under the GIL); `publish`
        or `release` ends the claim."""
        self.relay.claimed.update(event_ids)

    async def publish(self, events: list[Unsent]) -> None:
        """Send `events` (claimed, committed) now; their acks are awaited in the background."""
        js, nc = self.runtime.js, self.runtime.nc
        if js is None or nc is None or not nc.is_connected:
            self.hand_back([e.event_id for e in events])
            return
        try:
            futures = await self.relay.send(js, events)
        except Exception as exc:  # committed: the relay publishes what was not sent
            log.warning("publish after commit failed", extra={"reason": type(exc).__name__})
            self.hand_back([e.event_id for e in events])
            return
        task = asyncio.create_task(self._settle(events, futures))
        self._waiting.add(task)
        task.add_done_callback(self._waiting.discard)

    async def _settle(self, events: list[Unsent], futures: list[asyncio.Future[object]]) -> None:
        acked: list[str] = []
        try:
            acked = [e.event_id for e in await self.relay.settle(events, futures)]
            if self.forget is None:
                self.acked.extend(acked)
            elif acked:
                await self.forget(acked)
        except Exception as exc:
            log.warning("published events not forgotten", extra={"reason": type(exc).__name__})
            acked = []
        finally:
            if self.forget is None:  # the acked stay claimed until a transaction forgets them
                done = set(acked)
                left = [e.event_id for e in events if e.event_id not in done]
                if left:
                    self.hand_back(left)
            elif len(acked) == len(events):
                self.release(acked)
            else:
                self.hand_back([e.event_id for e in events])  # the relay deletes what is left

    def take(self) -> list[str]:
        """The acknowledged ids the next transaction forgets (`release` or `give_back` after)."""
        taken, self.acked = self.acked, []
        return taken

    def give_back(self, event_ids: list[str]) -> None:
        """The transaction that was to forget them failed: the next one will."""
        self.acked[:0] = event_ids

    def release(self, event_ids: Collection[str]) -> None:
        """Forgotten, or not written after all: the relay owns these rows (if any are left)."""
        self.relay.release(event_ids)

    def hand_back(self, event_ids: Collection[str]) -> None:
        """Not sent, acknowledged or forgotten: the relay publishes them (again: stored once)
        and deletes their rows, woken now rather than at its next poll."""
        self.release(event_ids)
        self.relay.wake()

    async def drain(self) -> None:
        """Wait for the acks still outstanding (on shutdown)."""
        if self._waiting:
            await asyncio.gather(*self._waiting, return_exceptions=True)
