"""The bus janitor: removes each stored report's sealed copy from the bus once all readers have it.

A `report.received` message carries the report sealed to sharing's key; left on the stream for
its 14 days, an erased report could be opened from a copy of the NATS store with that key.
The vault records each stored message's stream and sequence in the transaction that stores it
(`repository.record`). The copies have a stream of their own, so whenever every durable that
reads the subject (`libs.common.bus.readers`) has acknowledged all it holds, the janitor purges
it up to its last message: nats-server deletes the block files and starts a fresh one, which
costs it no rewrite (`docs/bus.md`, "What an erasure costs"). A copy that waits longer than a
grace because the stream never drained meanwhile, and the copy of an erased report at once, is
erased alone with `STREAM.MSG.DELETE` without `no_erase`, which overwrites it in the file store.
Copies published before the move sit on `LIFELINE_REPORTS` and are erased there one by one.
Several replicas may sweep at once: a message deleted or purged twice is no error, and the rows
are forgotten only after the removal.
"""

from __future__ import annotations

import asyncio
import collections
import functools
import logging
import time

from nats.js import JetStreamContext
from nats.js.errors import APIError, NotFoundError

from libs.common import bus
from libs.common.runtime import Runtime
from libs.common.subjects import REPORT_RECEIVED, stream_for
from libs.common.ticker import Ticker
from services.sharing.vault.copies import repository as repo

log = logging.getLogger(__name__)

SUBJECT = REPORT_RECEIVED
STREAM = stream_for(SUBJECT).name
# How long a copy every reader has may wait for the stream to drain before it is erased alone.
GRACE_S = 3.0
# Under a steady flow the readers keep up but the stream is drained only between messages: a
# sweep looks again this many times, this far apart, for such a moment before it gives up.
LOOKS, LOOK_APART_S = 10, 0.03
# Readers further behind than this have a backlog, which no look 30 ms later finds drained:
# the sweep stops looking (each look is a JetStream request per reader and one for the stream).
NEAR = 4
# The floor of a reader whose old durable is gone: it was drained, it had every copy there.
_ALL = 2**63 - 1
# nats-server's answers to deleting a message that is not there: sequence not found (a gap),
# and the store's "no message found" / "stream store EOF" (below the first or past the last).
_SEQUENCE_NOT_FOUND = 10043
_DELETE_FAILED = 10057
_GONE = ("no message found", "stream store eof")


class BusJanitor:
    """Sweeps every `interval` seconds and whenever woken (a report erased) until stopped."""

    def __init__(
        self, runtime: Runtime, *, interval: float = 1.0, batch: int = 256, grace: float = GRACE_S
    ) -> None:
        self.runtime = runtime
        self.interval = interval
        self.batch = batch
        self.grace = grace
        self.readers = bus.readers(SUBJECT)
        self._ticker = Ticker(interval)
        # (when, floor) of recent sweeps: the floor of `grace` ago says which copies waited.
        self._floors: collections.deque[tuple[float, int]] = collections.deque()
        # The last purge may have met a newer message and only compacted (see `_purge`).
        self._partial = False
        # One sweep at a time in this process: a sweep asked for by hand (an operator, a test)
        # waits for the ticker's, so the two never work on the same copies.
        self._sweeping = asyncio.Lock()

    def wake(self) -> None:
        """Sweep now rather than at the next tick."""
        self._ticker.wake()

    async def run(self) -> None:
        """Sweep until the runtime stops; NATS or the database away only delays a sweep."""
        await self._ticker.run(self.runtime.stop, self.sweep, "bus-janitor")

    async def sweep(self) -> int:
        """Remove every copy that is due; how many went (0 while NATS is away)."""
        async with self._sweeping:
            return await self._sweep()

    async def _sweep(self) -> int:
        js, nc = self.runtime.js, self.runtime.nc
        if js is None or nc is None or not nc.is_connected:
            return 0
        streams = await self.runtime.threads.run(repo.streams_left)
        total = 0
        if STREAM in streams or self._partial:
            total += await self._sweep_own(js)
        for old in sorted(streams - {STREAM}):
            total += await self._erase_due(js, old, await self.floor(js, old))
        if total:
            log.info("bus copies erased", extra={"count": total})
        return total

    async def _sweep_own(self, js: JetStreamContext) -> int:
        """Purge the drained stream, or erase alone what waited too long for it to drain."""
        for look in range(LOOKS):
            floor = await self.floor(js, STREAM)
            state = (await js.stream_info(STREAM)).state
            if floor >= state.last_seq or state.last_seq - floor > NEAR or look == LOOKS - 1:
                break
            await asyncio.sleep(LOOK_APART_S)
        if floor < state.last_seq:
            return await self._erase_due(js, STREAM, self._overdue(floor))
        if state.messages or self._partial:
            await self._purge(js, state.last_seq)
        forget = functools.partial(repo.forget_upto, stream=STREAM, last=state.last_seq)
        return await self.runtime.threads.run(forget)

    async def _purge(self, js: JetStreamContext, last: int) -> None:
        """Purge every message up to `last`; one published since stays."""
        await js.purge_stream(STREAM, seq=last + 1)
        # A message stored between the look and the purge turns the purge into a compaction,
        # which may leave the purged bytes in the newest block's file: purge again once the
        # stream next drains (a full purge deletes every block file).
        self._partial = (await js.stream_info(STREAM)).state.last_seq > last

    def _overdue(self, floor: int) -> int:
        """The floor as it was `grace` ago (0 if no sweep was that long ago)."""
        now = time.monotonic()
        self._floors.append((now, floor))
        while len(self._floors) > 1 and self._floors[1][0] <= now - self.grace:
            self._floors.popleft()
        when, then = self._floors[0]
        return then if when <= now - self.grace else 0

    async def _erase_due(self, js: JetStreamContext, stream: str, floor: int) -> int:
        """Erase, one message each, the copies on `stream` at or below `floor` or erased."""
        threads = self.runtime.threads
        total = 0
        while True:
            due = functools.partial(repo.due, stream=stream, floor=floor, limit=self.batch)
            seqs = await threads.run(due)
            # Sent together, acknowledged together: one flush and one loop wake-up for the
            # batch rather than a round trip each.
            outcomes = await asyncio.gather(
                *(_erase(js, stream, seq) for seq in seqs), return_exceptions=True
            )
            erased = [seq for seq, out in zip(seqs, outcomes, strict=True) if out is None]
            if erased:
                await threads.run(functools.partial(repo.forget, stream=stream, seqs=erased))
                total += len(erased)
            failed = next((out for out in outcomes if isinstance(out, BaseException)), None)
            if failed is not None:
                raise failed  # the rest stay recorded for the next sweep
            if len(seqs) < self.batch:
                return total

    async def floor(self, js: JetStreamContext, stream: str = STREAM) -> int:
        """The highest sequence of `stream` every reader has acknowledged up to (0: keep all)."""
        floors = []
        for durable in self.readers:
            try:
                info = await js.consumer_info(stream, durable.name)
            except NotFoundError:
                if stream == durable.stream:
                    return 0  # a reader that has not started yet has read nothing
                floors.append(_ALL)  # its old durable is gone: drained, then deleted
                continue
            floors.append(info.ack_floor.stream_seq if info.ack_floor else 0)
        return min(floors, default=0)


async def _erase(js: JetStreamContext, stream: str, seq: int) -> None:
    try:
        await js.delete_msg(stream, seq)
    except APIError as exc:
        # Deleted before (another replica, a crash before `forget`) or aged out: done.
        gone = exc.err_code == _SEQUENCE_NOT_FOUND or (
            exc.err_code == _DELETE_FAILED and str(exc.description).lower() in _GONE
        )
        if not gone:
            raise
