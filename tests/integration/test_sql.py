"""Dialect differences in one place, on real SQLite and PostgreSQL: ignoring inserts, locks,
and SQLite's write lock taken at BEGIN by every `transaction()`."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from libs.common import db, sql
from libs.common.logging import JsonFormatter, PlainFormatter

METADATA = MetaData()
ROWS = Table("rows", METADATA, Column("id", String(8), primary_key=True), Column("n", Integer))
BLOBS = Table(
    "blobs", METADATA, Column("id", String(8), primary_key=True), Column("body", String(64))
)


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = db.create_engine(db_url)
    async with engine.begin() as conn:
        await conn.run_sync(METADATA.create_all)
    yield db.session_factory(engine)
    await engine.dispose()


async def _count(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int((await session.execute(select(func.count()).select_from(ROWS))).scalar_one())


async def test_ignoring_inserts_report_what_they_inserted(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db.transaction(sessions) as session:
        assert await sql.insert_ignore(session, ROWS, {"id": "a", "n": 1})
        assert not await sql.insert_ignore(session, ROWS, {"id": "a", "n": 2})
        rows = [{"id": "a", "n": 3}, {"id": "b", "n": 4}, {"id": "c", "n": 5}]
        assert await sql.insert_many_ignore(session, ROWS, rows) == 2
    async with sessions() as session:
        kept = (await session.execute(select(ROWS.c.n).where(ROWS.c.id == "a"))).scalar_one()
    assert kept == 1 and await _count(sessions) == 3


async def test_advisory_locks_serialise_on_postgresql_and_cost_nothing_on_sqlite(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    key = sql.lock_key("test-lock")
    assert key == sql.lock_key("test-lock") and -(2**63) <= key < 2**63
    order: list[str] = []

    async def unit(name: str, hold: float) -> None:
        async with db.transaction(sessions) as session:
            await sql.advisory_lock(session, key)
            order.append(f"{name}+")
            await asyncio.sleep(hold)
            order.append(f"{name}-")

    await asyncio.gather(unit("a", 0.2), unit("b", 0.0))
    # On PostgreSQL the advisory lock, on SQLite the write lock: never interleaved.
    assert order in (["a+", "a-", "b+", "b-"], ["b+", "b-", "a+", "a-"])


async def test_for_update_locks_rows_only_where_row_locks_exist(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with db.transaction(sessions) as session:
        query = sql.for_update(session, select(ROWS.c.id), skip_locked=True)
        rendered = str(query.compile(dialect=session.get_bind().dialect))
        assert ("FOR UPDATE SKIP LOCKED" in rendered) == sql.is_postgres(session)
        assert sql.dialect(session) in {"postgresql", "sqlite"}


@pytest.fixture
async def sqlite_sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'one-writer.db'}")
    async with engine.begin() as conn:
        await conn.run_sync(METADATA.create_all)
    yield db.session_factory(engine)
    await engine.dispose()


async def test_sqlite_transactions_hold_the_write_lock_from_begin(
    tmp_path: Path, sqlite_sessions: async_sessionmaker[AsyncSession]
) -> None:
    sessions = sqlite_sessions
    path = tmp_path / "one-writer.db"

    def other_writer() -> Any:
        # Another process (the admin CLI, a second replica) trying to write meanwhile.
        conn = sqlite3.connect(path, timeout=0.2, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO rows (id, n) VALUES ('x', 0)")
            conn.execute("COMMIT")
            return "committed"
        except sqlite3.OperationalError as exc:
            return str(exc)
        finally:
            conn.close()

    async with db.transaction(sessions) as session:
        seen = await _read_n(session)  # read first ...
        outcome = await asyncio.to_thread(other_writer)
        await session.execute(ROWS.insert().values(id="mine", n=seen))  # ... then write
    # Without the lock from BEGIN the other writer commits in between and this unit's write
    # fails with SQLITE_BUSY_SNAPSHOT; with it, the other writer waits (here: gives up).
    assert outcome == "database is locked"
    assert await _count(sessions) == 1


async def test_a_wal_checkpoint_empties_the_sqlite_wal(
    tmp_path: Path, sqlite_sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with db.transaction(sqlite_sessions) as session:
        await session.execute(ROWS.insert().values(id="a", n=1))
    wal = tmp_path / "one-writer.db-wal"
    assert wal.stat().st_size > 0
    engine: AsyncEngine = sqlite_sessions.kw["bind"]
    await db.checkpoint_wal(engine)  # must run outside a transaction to truncate
    assert wal.stat().st_size == 0
    assert await _count(sqlite_sessions) == 1


async def test_a_deleted_row_leaves_no_trace_in_the_sqlite_file(tmp_path: Path) -> None:
    # A sealed report waiting in an outbox is such a row: once relayed it must be gone.
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'scrubbed.db'}")

    def as_built_without_secure_delete(dbapi_conn: Any, _record: Any) -> None:
        # Debian's SQLite zeroes deleted rows by default, python.org's and Homebrew's do not.
        dbapi_conn.cursor().execute("PRAGMA secure_delete=OFF")

    event.listen(engine.sync_engine, "connect", as_built_without_secure_delete, insert=True)
    sessions = db.session_factory(engine)
    canary = "sealed-" + "7" * 40
    files = [tmp_path / "scrubbed.db", tmp_path / "scrubbed.db-wal"]
    try:
        async with engine.begin() as conn:
            await conn.run_sync(METADATA.create_all)
        async with db.transaction(sessions) as session:
            await session.execute(BLOBS.insert().values(id="gone", body=canary))
        await db.checkpoint_wal(engine)
        assert canary.encode() in b"".join(f.read_bytes() for f in files)  # the scan sees it
        async with db.transaction(sessions) as session:
            await session.execute(BLOBS.insert().values(id="stays", body="x"))
            await session.execute(BLOBS.delete().where(BLOBS.c.id == "gone"))
        await db.checkpoint_wal(engine)
        assert canary.encode() not in b"".join(f.read_bytes() for f in files)
    finally:
        await engine.dispose()


async def _read_n(session: AsyncSession) -> int:
    return int((await session.execute(select(func.count()).select_from(ROWS))).scalar_one())


def _record(exc: BaseException) -> logging.LogRecord:
    """A log record of `exc`, as `log.exception` makes it."""
    return logging.LogRecord("t", logging.ERROR, __file__, 1, "failed", (), (type(exc), exc, None))


async def test_a_failing_statement_never_shows_its_parameters(db_url: str) -> None:
    # Exception texts reach the logs; without `hide_parameters` they end "[parameters: (...)]".
    canary = "cnry4f1c"  # an identity token, say (it fits the 8-character id)
    engine, sync_engine = db.create_engine(db_url), db.create_sync_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(METADATA.create_all)
            await conn.execute(ROWS.insert().values(id=canary, n=1))
        with pytest.raises(IntegrityError) as on_async:
            async with engine.begin() as conn:
                await conn.execute(ROWS.insert().values(id=canary, n=2))
        with pytest.raises(IntegrityError) as on_sync, sync_engine.begin() as sync_conn:
            sync_conn.execute(ROWS.insert().values(id=canary, n=3))
        for caught in (on_async, on_sync):
            assert "[SQL parameters hidden" in str(caught.value)
            # PostgreSQL's own DETAIL line still names the key: the log shows no message of it.
            logged = [f.format(_record(caught.value)) for f in (JsonFormatter(), PlainFormatter())]
            assert all("IntegrityError" in line and canary not in line for line in logged)
    finally:
        sync_engine.dispose()
        await engine.dispose()
