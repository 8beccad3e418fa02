"""Group commit of delivery bookkeeping: attempts that finish close together, one transaction.

Every send ends in a little transaction (the job's status, its attempt row, its contact's
health). Run one by one, each costs a worker-thread hop, a BEGIN and a COMMIT, and on SQLite a
turn of the write lock, besides its statements. Here a finished attempt's unit of work waits up
to `linger_s` for others, and all that are waiting then run in one thread-run transaction. If
that transaction fails, each unit runs again alone, so one bad unit cannot keep the others from
being recorded (and resent after their lease).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.threaded import InThread

Work = Callable[[AsyncSession], Coroutine[Any, Any, Any]]


class Recorder:
    """Runs units of bookkeeping in batches, each batch one transaction (`in_thread`)."""

    def __init__(self, in_thread: InThread, *, linger_s: float) -> None:
        self.in_thread = in_thread
        self.linger_s = linger_s
        self._queue: list[tuple[Work, asyncio.Future[Any]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def run(self, work: Work) -> Any:
        """Run `work` in the next batch's transaction; its result once that committed."""
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((work, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await done

    async def _flush(self) -> None:
        while self._queue:
            if self.linger_s > 0:
                await asyncio.sleep(self.linger_s)
            batch, self._queue = self._queue, []
            await self._commit(batch)

    async def _commit(self, batch: list[tuple[Work, asyncio.Future[Any]]]) -> None:
        async def together(session: AsyncSession) -> list[Any]:
            return [await work(session) for work, _ in batch]

        try:
            results = await self.in_thread(together)
        except Exception as exc:
            if len(batch) == 1:
                _settle(batch[0][1], exc=exc)
                return
            for work, done in batch:  # rolled back whole: each alone now
                try:
                    _settle(done, await self.in_thread(work))
                except Exception as one:
                    _settle(done, exc=one)
            return
        for (_, done), result in zip(batch, results, strict=True):
            _settle(done, result)


def _settle(done: asyncio.Future[Any], result: Any = None, *, exc: Exception | None = None) -> None:
    """Hand a unit's outcome to its waiter (unless it stopped waiting, e.g. cancelled)."""
    with contextlib.suppress(asyncio.InvalidStateError):
        if exc is not None:
            done.set_exception(exc)
        else:
            done.set_result(result)
