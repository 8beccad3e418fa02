"""Whole transactions run in a worker thread on a blocking engine: one event-loop turn each.

An async transaction costs the loop several turns per statement (aiosqlite hands every cursor
step to its own thread); a busy loop stretches each of them. `ThreadTransactions` runs a whole
unit of work on a blocking connection in one `asyncio.to_thread` call instead, either as plain
blocking code (`write`) or as the project's async repository functions themselves (`run`, and
`read` without the write lock):
those only ever await `session.execute`, which `ThreadSession` answers at once, so the
coroutine runs to its end without suspending (`run_inline`) and no SQL is written twice.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar, cast

from sqlalchemy.engine import Connection, Engine, Result
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common import db

T = TypeVar("T")
# `ThreadTransactions.run` as the services' classes are handed it: async repository code in, its
# result out, as one transaction in a worker thread.
InThread = Callable[[Callable[[AsyncSession], Coroutine[Any, Any, Any]]], Awaitable[Any]]


class ThreadSession:
    """What the repositories use of an `AsyncSession` (`execute`, `get_bind`), on a blocking
    connection inside its transaction."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    async def execute(self, statement: Any, params: Any = None) -> Result[Any]:
        """Run the statement now; awaiting it never suspends."""
        return self.conn.execute(statement, params)

    def get_bind(self) -> Engine:
        """The blocking engine (its `dialect` tells SQLite from PostgreSQL)."""
        return self.conn.engine


def run_inline(coro: Coroutine[Any, Any, T]) -> T:
    """Drive a coroutine that never suspends to its end and return its result (or raise)."""
    try:
        coro.send(None)
    except StopIteration as done:
        return cast(T, done.value)
    coro.close()
    raise RuntimeError("a thread-run transaction awaited something other than its session")


class ThreadTransactions:
    """Units of work in a worker thread, on a blocking engine beside `sessions`' async one."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, pool_size: int = 2) -> None:
        self.sessions = sessions
        self.pool_size = pool_size
        self._engine: Engine | None = None

    def engine(self) -> Engine:
        """The blocking engine, created on first use (see `db.create_sync_engine`)."""
        if self._engine is None:
            url = self.sessions.kw["bind"].url.render_as_string(hide_password=False)
            self._engine = db.create_sync_engine(url, pool_size=self.pool_size)
        return self._engine

    async def write(self, work: Callable[[Connection], T]) -> T:
        """Run `work` as one write transaction (SQLite: the write lock from BEGIN)."""
        engine = self.engine()

        def run() -> T:
            with db.begin_write(engine) as conn:
                return work(conn)

        # Writers of this process queue on the loop, not in SQLite's sleeping busy handler.
        async with db.write_lock(self.sessions) or contextlib.nullcontext():
            return await asyncio.to_thread(run)

    async def read(self, work: Callable[[AsyncSession], Coroutine[Any, Any, T]]) -> T:
        """Run async repository reads as one read-only transaction: no write lock, so it never
        queues behind this process's writers."""
        engine = self.engine()

        def run() -> T:
            # Leaving the block rolls the (read-only) transaction back.
            with engine.connect() as conn:
                return run_inline(work(cast(Any, ThreadSession(conn))))

        return await asyncio.to_thread(run)

    async def run(self, work: Callable[[AsyncSession], Coroutine[Any, Any, T]]) -> T:
        """Run async repository code as one write transaction; an exception rolls it back."""
        # The repositories are typed for `AsyncSession`; they use no more than ThreadSession has.
        return await self.write(lambda conn: run_inline(work(cast(Any, ThreadSession(conn)))))

    def dispose(self) -> None:
        """Close the blocking engine's connections (if it was ever created)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
