"""Repository code written for `AsyncSession` run as one blocking transaction in a worker thread
(`libs/common/blocking.py`), on real SQLite and PostgreSQL: commit, rollback, thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import db, sql
from libs.common.blocking import in_thread
from libs.common.runtime import Runtime
from libs.common.settings import ServiceSettings

METADATA = MetaData()
ROWS = Table("rows", METADATA, Column("id", String(8), primary_key=True), Column("n", Integer))


@pytest.fixture
async def runtime(db_url: str) -> AsyncIterator[Runtime]:
    engine = db.create_engine(db_url)
    async with engine.begin() as conn:
        await conn.run_sync(METADATA.create_all)
    yield Runtime(ServiceSettings(database_url=db_url), engine, db.session_factory(engine))
    await engine.dispose()


async def _ids(runtime: Runtime) -> list[str]:
    async with runtime.sessions() as session:
        return sorted((await session.execute(select(ROWS.c.id))).scalars())


async def test_async_repository_code_commits_in_one_worker_thread(runtime: Runtime) -> None:
    threads: list[int] = []

    async def work(session: AsyncSession) -> tuple[bool, bool, int]:
        threads.append(threading.get_ident())
        first = await sql.insert_ignore(session, ROWS, {"id": "a", "n": 1})
        again = await sql.insert_ignore(session, ROWS, {"id": "a", "n": 2})
        more = await sql.insert_many_ignore(session, ROWS, [{"id": "b", "n": 3}, {"id": "a"}])
        return first, again, more

    assert await in_thread(runtime.write, work) == (True, False, 1)
    assert threads != [threading.get_ident()]  # not the event loop's thread
    assert await _ids(runtime) == ["a", "b"]


async def test_a_failure_rolls_the_whole_transaction_back(runtime: Runtime) -> None:
    async def work(session: AsyncSession) -> None:
        await sql.insert_ignore(session, ROWS, {"id": "a", "n": 1})
        raise LookupError("a rule said no")

    with pytest.raises(LookupError):
        await in_thread(runtime.write, work)
    assert await _ids(runtime) == []


async def test_work_that_waits_on_the_event_loop_is_refused_and_not_committed(
    runtime: Runtime,
) -> None:
    async def work(session: AsyncSession) -> None:
        await sql.insert_ignore(session, ROWS, {"id": "a", "n": 1})
        await asyncio.sleep(0)  # would need the loop, which this thread has not got

    with pytest.raises(RuntimeError, match="awaited something that waits"):
        await in_thread(runtime.write, work)
    assert await _ids(runtime) == []
