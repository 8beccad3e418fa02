"""Async repository code run as one blocking transaction in a worker thread, on real SQLite and
PostgreSQL: it commits as a whole, rolls back as a whole, and refuses code that suspends."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import db, sql
from libs.common.threaded import ThreadTransactions

METADATA = MetaData()
ROWS = Table(
    "threaded_rows", METADATA, Column("id", String(8), primary_key=True), Column("n", Integer)
)


@pytest.fixture
async def threads(db_url: str) -> AsyncIterator[ThreadTransactions]:
    engine = db.create_engine(db_url)
    async with engine.begin() as conn:
        await conn.run_sync(METADATA.create_all)
    runner = ThreadTransactions(db.session_factory(engine))
    yield runner
    runner.dispose()
    await engine.dispose()


async def _insert(session: AsyncSession, *ids: str) -> int:
    # What a repository function does: awaits `session.execute`, uses the dialect helpers.
    await sql.advisory_lock(session, sql.lock_key("test.threaded"))
    await session.execute(ROWS.insert(), [{"id": i, "n": 1} for i in ids])
    return int((await session.execute(select(func.count()).select_from(ROWS))).scalar_one())


async def _count(threads: ThreadTransactions) -> int:
    async with threads.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(ROWS))).scalar_one())


async def test_a_unit_of_work_commits_and_returns_its_result(threads: ThreadTransactions) -> None:
    assert await threads.run(lambda s: _insert(s, "a", "b")) == 2
    assert await _count(threads) == 2


async def test_an_error_rolls_the_whole_unit_back(threads: ThreadTransactions) -> None:
    async def fails(session: AsyncSession) -> None:
        await _insert(session, "c")
        raise LookupError("after the insert")

    with pytest.raises(LookupError):
        await threads.run(fails)
    assert await _count(threads) == 0


async def test_code_that_suspends_is_refused_and_rolled_back(threads: ThreadTransactions) -> None:
    async def suspends(session: AsyncSession) -> None:
        await _insert(session, "d")
        await asyncio.sleep(0)  # would need the event loop, which the worker thread has not

    with pytest.raises(RuntimeError, match="awaited something other than its session"):
        await threads.run(suspends)
    assert await _count(threads) == 0


async def test_units_run_one_after_another_on_the_loop(threads: ThreadTransactions) -> None:
    await asyncio.gather(*(threads.run(lambda s, i=i: _insert(s, f"r{i}")) for i in range(8)))
    assert await _count(threads) == 8


async def test_a_read_returns_its_result_without_queueing_behind_a_writer(
    threads: ThreadTransactions,
) -> None:
    await threads.run(lambda s: _insert(s, "w"))
    release = threading.Event()
    writer = asyncio.create_task(threads.write(lambda conn: release.wait(10)))
    await asyncio.sleep(0.1)  # the writer holds this process's write lock (SQLite: and BEGIN)
    try:

        async def count(session: AsyncSession) -> int:
            return int((await session.execute(select(func.count()).select_from(ROWS))).scalar_one())

        assert await asyncio.wait_for(threads.read(count), timeout=3) == 1
        assert not writer.done()
    finally:
        release.set()
        await writer
