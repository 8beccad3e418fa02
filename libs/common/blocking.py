"""Repository code written for `AsyncSession` run as one blocking transaction in a worker thread.

A hot path's transaction of a dozen statements through aiosqlite costs a thread hop and several
event-loop turns per statement, and on a busy loop it holds SQLite's one write lock for as many
turns. Run here, the same repository functions execute on a blocking connection in one worker
thread (`Runtime.write`): one hop for the whole transaction. Their `await session.execute(...)`
finishes at once (`BlockingSession`), so the coroutine runs to its end without an event loop.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar, cast

from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")
# `Runtime.write`: runs a function of a blocking connection as one transaction in a thread.
Write = Callable[[Callable[[Connection], Any]], Awaitable[Any]]


class BlockingSession:
    """What repository functions use of an `AsyncSession` (`execute`, `get_bind`), on a blocking
    connection inside its transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def get_bind(self) -> Connection:
        """The connection (its dialect says which backend this is)."""
        return self._conn

    async def execute(self, statement: Any, params: Any = None) -> Any:
        """Run the statement now; the awaitable is already done."""
        return self._conn.execute(statement, params)


def drive(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine that never waits to its end, in this thread."""
    try:
        coro.send(None)
    except StopIteration as done:
        return cast(T, done.value)
    coro.close()
    raise RuntimeError("a blocking transaction awaited something that waits")


async def in_thread(write: Write, work: Callable[[AsyncSession], Coroutine[Any, Any, T]]) -> T:
    """Run `work(session)` as one transaction in a worker thread; commit unless it raises."""

    def run(conn: Connection) -> T:
        return drive(work(cast(AsyncSession, BlockingSession(conn))))

    return cast(T, await write(run))
