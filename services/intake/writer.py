"""Group commit: submissions arriving together share one transaction (one SQLite write)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from libs.common import tracing
from libs.common.events import Envelope
from libs.common.outbox import outbox_row
from libs.common.runtime import Runtime
from services.intake import repository as repo


@dataclass
class _Pending:
    row: dict[str, Any]
    event: Envelope
    trace_context: str | None
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class BatchWriter:
    """Writes (report row, outbox event) pairs; a caller's `write` returns once committed."""

    def __init__(self, runtime: Runtime, max_batch: int = 128) -> None:
        self.runtime = runtime
        self.max_batch = max_batch
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()

    async def write(self, row: dict[str, Any], event: Envelope) -> None:
        """Commit the report and its event; IntegrityError if the report key already exists."""
        # Taken here, in the request's task: the commit runs in the writer's.
        pending = _Pending(row, event, tracing.stored())
        await self._queue.put(pending)
        await pending.done

    async def run(self, stop: asyncio.Event) -> None:
        """Take whatever is waiting (up to `max_batch`) and commit it together, until stopped."""
        while not stop.is_set():
            try:
                first = await asyncio.wait_for(self._queue.get(), timeout=0.5)
            except TimeoutError:
                continue
            batch = [first]
            while len(batch) < self.max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            await self._commit(batch)

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
            return
        except Exception as exc:
            for pending in batch:
                _settle(pending, exc)
            return
        for pending in batch:
            _settle(pending, None)

    async def _insert(self, batch: list[_Pending]) -> None:
        reports = [p.row for p in batch]
        events = [outbox_row(p.event, p.trace_context) for p in batch]
        # The whole transaction runs in a worker thread: one loop turn while holding the lock.
        await self.runtime.write(lambda conn: _insert_blocking(conn, reports, events))


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
