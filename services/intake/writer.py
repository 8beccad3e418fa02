"""Group commit: submissions arriving together share one transaction (one SQLite write).

The committed batch goes to the publisher at once; the "published" bookkeeping of earlier
batches (outbox rows deleted, reports marked) rides in the next transaction, the next batch's
or a receipt's (`carry`), or in one of its own once the writer has been idle for
`IDLE_BOOKKEEPING_S`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from libs.common import tracing
from libs.common.outbox import OutboxRelay, encoded_row, unsent
from libs.common.publisher import Publisher
from libs.common.runtime import Runtime
from libs.common.subjects import REPORT_RECEIVED
from services.intake import repository as repo

# How long acknowledged events may wait for a submission to carry their bookkeeping.
IDLE_BOOKKEEPING_S = 0.2


@dataclass
class _Pending:
    row: dict[str, Any]
    outbox: dict[str, Any]
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class BatchWriter:
    """Writes (report row, outbox event) pairs; a caller's `write` returns once committed."""

    def __init__(self, runtime: Runtime, relay: OutboxRelay, max_batch: int = 128) -> None:
        self.runtime = runtime
        self.relay = relay
        self.publisher = Publisher(runtime, relay)
        self.max_batch = max_batch
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()

    async def write(self, row: dict[str, Any], event_id: str, payload: bytes) -> None:
        """Commit the report and its `report.received` event (`payload`, encoded by the caller);
        IntegrityError if the report key already exists."""
        # The trace is taken here, in the request's task: the commit runs in the writer's.
        outbox = encoded_row(
            event_id, REPORT_RECEIVED, payload, row["received_at"], tracing.stored()
        )
        pending = _Pending(row, outbox)
        await self._queue.put(pending)
        await pending.done

    async def run(self, stop: asyncio.Event) -> None:
        """Take whatever is waiting (up to `max_batch`) and commit it together, until stopped."""
        try:
            while not stop.is_set():
                idle = IDLE_BOOKKEEPING_S if self.publisher.acked else 0.5
                try:
                    first = await asyncio.wait_for(self._queue.get(), timeout=idle)
                except TimeoutError:
                    await self._bookkeeping()
                    continue
                batch = [first]
                while len(batch) < self.max_batch and not self._queue.empty():
                    batch.append(self._queue.get_nowait())
                await self._commit(batch)
        finally:
            await self.publisher.drain()
            await self._bookkeeping()

    async def _bookkeeping(self) -> None:
        """A transaction of its own for acknowledged events no submission came to carry."""
        if self.publisher.acked:
            with contextlib.suppress(Exception):  # they stay for the next one, or the relay
                await self.carry(lambda conn: None)

    async def _commit(self, batch: list[_Pending]) -> None:
        try:
            await self._insert(batch)
        except IntegrityError:
            # Someone in the batch reused a client report id: commit the others one by one so
            # only that submission learns of the conflict.
            for pending in batch:
                try:
                    await self._insert([pending])
                except Exception as exc:
                    _settle(pending, exc)
                else:
                    _settle(pending, None)
                    await self._publish([pending])
            return
        except Exception as exc:
            for pending in batch:
                _settle(pending, exc)
            return
        for pending in batch:
            _settle(pending, None)
        await self._publish(batch)

    async def _publish(self, batch: list[_Pending]) -> None:
        await self.publisher.publish([unsent(p.outbox) for p in batch])

    async def carry(self, work: Callable[[Connection], None]) -> None:
        """Run `work` as one transaction (in a worker thread) that also forgets the events
        acknowledged since the last one: their outbox rows go, their reports read published."""
        published = self.publisher.take()
        forget = self.relay.forget_blocking

        def run(conn: Connection) -> None:
            work(conn)
            if published:
                forget(conn, published)

        try:
            await self.runtime.write(run)
        except BaseException:
            self.publisher.give_back(published)
            raise
        self.publisher.release(published)

    async def _insert(self, batch: list[_Pending]) -> None:
        reports = [p.row for p in batch]
        events = [p.outbox for p in batch]
        claimed = [e["event_id"] for e in events]
        self.publisher.claim(claimed)
        try:
            # One loop turn while holding the write lock (`Runtime.write`).
            await self.carry(lambda conn: _insert_blocking(conn, reports, events))
        except BaseException:
            self.publisher.release(claimed)
            raise


def _settle(pending: _Pending, exc: BaseException | None) -> None:
    with contextlib.suppress(asyncio.InvalidStateError):  # the caller may have gone away
        if exc is None:
            pending.done.set_result(None)
        else:
            pending.done.set_exception(exc)


def _insert_blocking(
    conn: Connection, reports: list[dict[str, Any]], events: list[dict[str, Any]]
) -> None:
    conn.execute(repo.REPORTS.insert(), reports)
    conn.execute(repo.OUTBOX.insert(), events)
