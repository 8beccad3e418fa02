"""The bus janitor: erases each stored report's sealed copy from the stream once all have it.

A `report.received` message carries the report sealed to sharing's key; left on the stream for
its 14 days, an erased report could be opened from a copy of the NATS store with that key.
The vault records each stored message's stream sequence in the transaction that stores it
(`repository.record`); the janitor deletes it once every durable that reads the subject
(`libs.common.bus.readers`) has acknowledged past it, or at once when the report is erased.
JetStream's `STREAM.MSG.DELETE` without `no_erase` overwrites the message in the file store
with random bytes (`docs/bus.md`). Several replicas may sweep at once: a message deleted twice
is no error, and the rows are forgotten only after the deletion.
"""

from __future__ import annotations

import asyncio
import functools
import logging

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
# nats-server's answers to deleting a message that is not there: sequence not found (a gap),
# and the store's "no message found" / "stream store EOF" (below the first or past the last).
_SEQUENCE_NOT_FOUND = 10043
_DELETE_FAILED = 10057
_GONE = ("no message found", "stream store eof")


class BusJanitor:
    """Sweeps every `interval` seconds and whenever woken (a report erased) until stopped."""

    def __init__(self, runtime: Runtime, *, interval: float = 1.0, batch: int = 256) -> None:
        self.runtime = runtime
        self.interval = interval
        self.batch = batch
        self.readers = bus.readers(SUBJECT)
        self._ticker = Ticker(interval)

    def wake(self) -> None:
        """Sweep now rather than at the next tick."""
        self._ticker.wake()

    async def run(self) -> None:
        """Sweep until the runtime stops; NATS or the database away only delays a sweep."""
        await self._ticker.run(self.runtime.stop, self.sweep, "bus-janitor")

    async def sweep(self) -> int:
        """Erase every copy that is due; how many were erased (0 while NATS is away)."""
        js, nc = self.runtime.js, self.runtime.nc
        if js is None or nc is None or not nc.is_connected:
            return 0
        threads = self.runtime.threads
        if not await threads.run(repo.any_left):
            return 0
        floor = await self.floor(js)
        total = 0
        while True:
            seqs = await threads.run(functools.partial(repo.due, floor=floor, limit=self.batch))
            # Sent together, acknowledged together: one flush and one loop wake-up for the
            # batch rather than a round trip each.
            outcomes = await asyncio.gather(
                *(_erase(js, seq) for seq in seqs), return_exceptions=True
            )
            erased = [seq for seq, out in zip(seqs, outcomes, strict=True) if out is None]
            if erased:
                await threads.run(functools.partial(repo.forget, seqs=erased))
                total += len(erased)
            failed = next((out for out in outcomes if isinstance(out, BaseException)), None)
            if failed is not None:
                raise failed  # the rest stay recorded for the next sweep
            if len(seqs) < self.batch:
                break
        if total:
            log.info("bus copies erased", extra={"count": total})
        return total

    async def floor(self, js: JetStreamContext) -> int:
        """The highest stream sequence every reader has acknowledged up to (0: keep all)."""
        floors = []
        for durable in self.readers:
            try:
                info = await js.consumer_info(STREAM, durable.name)
            except NotFoundError:
                return 0  # a reader that has not started yet has read nothing
            floors.append(info.ack_floor.stream_seq if info.ack_floor else 0)
        return min(floors, default=0)


async def _erase(js: JetStreamContext, seq: int) -> None:
    try:
        await js.delete_msg(STREAM, seq)
    except APIError as exc:
        # Deleted before (another replica, a crash before `forget`) or aged out: done.
        gone = exc.err_code == _SEQUENCE_NOT_FOUND or (
            exc.err_code == _DELETE_FAILED and str(exc.description).lower() in _GONE
        )
        if not gone:
            raise
