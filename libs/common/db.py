"""Async database engines for SQLite and PostgreSQL, sessions, readiness and migrations."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import sys
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine as sa_create_engine
from sqlalchemy import event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry


def is_sqlite(url: str) -> bool:
    """True for a SQLite URL."""
    return url.startswith("sqlite")


# Execution option naming the BEGIN a SQLite transaction starts with (see `_sqlite_begin`).
SQLITE_BEGIN = "lifeline_sqlite_begin"


def _sqlite_pragmas(dbapi_conn: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets readers run beside the single writer; NORMAL is durable at each WAL checkpoint.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    # Deleted rows (an outbox's sealed report, a shredded data key) are overwritten with zeros,
    # not left in free pages for whoever copies the file; their WAL frames go at a checkpoint.
    cur.execute("PRAGMA secure_delete=ON")
    cur.close()
    # SQLAlchemy, not the driver, emits BEGIN (`_sqlite_begin`): the driver's own BEGIN is
    # always DEFERRED and comes late, which is what let a read-then-write transaction fail.
    dbapi_conn.isolation_level = None


def _sqlite_begin(conn: Connection) -> None:
    """BEGIN as the transaction asked: IMMEDIATE for writes, DEFERRED for reads, none at all
    for statements that must run outside a transaction (a WAL checkpoint)."""
    mode = conn.get_execution_options().get(SQLITE_BEGIN, "DEFERRED")
    if mode != "NONE":
        conn.exec_driver_sql(f"BEGIN {mode}")


def _sqlite_events(engine: Engine) -> None:
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)


def create_engine(url: str, *, pool_size: int = 4, max_overflow: int = 2) -> AsyncEngine:
    """An async engine with sane defaults for the given backend.

    Every engine hides statement parameters from its exceptions (`hide_parameters`): they hold
    identity tokens, report blobs and key material, and an exception text ends up in a log.
    """
    if is_sqlite(url):
        path = url.split("///", 1)[1] if "///" in url else ""
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 5}, hide_parameters=True)
        _sqlite_events(engine.sync_engine)
        return engine
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_pre_ping=True,
        pool_timeout=5,
        connect_args={"connect_timeout": 3},
        hide_parameters=True,
    )


def create_sync_engine(url: str, *, pool_size: int = 2) -> Engine:
    """A blocking engine on the same database, for whole transactions run in a worker thread.

    A transaction run this way needs one event-loop turn instead of one per statement, so on
    a busy loop it holds SQLite's single write lock for a millisecond, not for many turns.
    """
    sync_url = url.replace("sqlite+aiosqlite", "sqlite")
    if is_sqlite(sync_url):
        engine = sa_create_engine(
            sync_url,
            connect_args={"timeout": 5, "check_same_thread": False},
            hide_parameters=True,
        )
        _sqlite_events(engine)
        return engine
    # No overflow: the worker threads wait their turn (`pool_timeout`) rather than open more
    # connections than the replica's share of the server's limit.
    return sa_create_engine(
        sync_url,
        pool_size=pool_size,
        max_overflow=0,
        pool_pre_ping=True,
        pool_timeout=5,
        connect_args={"connect_timeout": 3},
        hide_parameters=True,
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded objects usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> None:
    """Raise if the database does not answer a trivial query."""
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


# SQLite has one writer. Writers of one process queue here instead of colliding in SQLite,
# whose busy handler backs off by sleeping up to 100 ms at a time (seen as p99 spikes).
_SQLITE_WRITE_LOCKS: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()


def write_lock(sessions: async_sessionmaker[AsyncSession]) -> asyncio.Lock | None:
    """The in-process SQLite writer lock of these sessions' engine (None for PostgreSQL)."""
    engine = sessions.kw.get("bind")
    if engine is None or not is_sqlite(str(engine.url)):
        return None
    lock = _SQLITE_WRITE_LOCKS.get(engine.sync_engine)
    if lock is None:
        lock = _SQLITE_WRITE_LOCKS[engine.sync_engine] = asyncio.Lock()
    return lock


_IMMEDIATE: weakref.WeakKeyDictionary[Any, AsyncEngine] = weakref.WeakKeyDictionary()


def _immediate(engine: AsyncEngine) -> AsyncEngine:
    """The same engine (same pool) whose transactions start with BEGIN IMMEDIATE."""
    found = _IMMEDIATE.get(engine.sync_engine)
    if found is None:
        found = _IMMEDIATE[engine.sync_engine] = engine.execution_options(
            **{SQLITE_BEGIN: "IMMEDIATE"}
        )
    return found


@asynccontextmanager
async def transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on any error.

    On SQLite it holds the database's one write lock from BEGIN (IMMEDIATE): a unit that read
    first and wrote later would otherwise fail with SQLITE_BUSY_SNAPSHOT whenever another
    writer committed in between, so every read-then-write rule here is safe by construction.
    """
    lock = write_lock(sessions)
    if lock is None:
        async with sessions() as session, session.begin():
            yield session
        return
    engine = sessions.kw["bind"]
    async with lock, sessions(bind=_immediate(engine)) as session, session.begin():
        yield session


def begin_write(engine: Engine) -> Any:
    """`engine.begin()` of a blocking engine, holding SQLite's write lock from BEGIN."""
    if is_sqlite(str(engine.url)):
        return engine.execution_options(**{SQLITE_BEGIN: "IMMEDIATE"}).begin()
    return engine.begin()


async def checkpoint_wal(engine: AsyncEngine) -> bool:
    """SQLite: copy the WAL home and empty it (outside any transaction); others: nothing.

    False when a reader kept SQLite from finishing (the WAL still holds old frames)."""
    if not is_sqlite(str(engine.url)):
        return True
    async with engine.execution_options(**{SQLITE_BEGIN: "NONE"}).connect() as conn:
        busy = (await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")).first()
    return busy is None or busy[0] == 0


def _lock_key(script_location: Path) -> int:
    digest = hashlib.sha256(str(script_location.name).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def upgrade(conn: Connection, script_location: Path) -> None:
    """Upgrade the schema on `conn` to head; replicas starting together take turns (PostgreSQL)."""
    # Alembic (~10 MB resident) only for this: a process that never migrates never loads it.
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["connection"] = conn
    if conn.dialect.name == "postgresql":
        # Several replicas may start at once: an advisory lock serialises their upgrades.
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(script_location)})
    command.upgrade(config, "head")


# Set by a long-lived service process (`python -m services.<name>`): its start-up migration runs
# in a short-lived child (`python -m libs.common.migrate`), so Alembic's ~10 MB never stay in
# the service's resident set, and only when the database is not at head already (a child costs
# ~0.5 s of CPU). Everything else (tests, tools) migrates in process.
MIGRATE_IN_CHILD = False
# The child's database URL: in its environment, never on a command line that `ps` shows.
MIGRATE_URL_ENV = "LIFELINE_MIGRATE_DATABASE_URL"


async def migrate(engine: AsyncEngine, script_location: Path) -> None:
    """Upgrade the schema to head: in this process, or in a child (`MIGRATE_IN_CHILD`)."""
    if not MIGRATE_IN_CHILD:
        async with engine.begin() as conn:
            await conn.run_sync(upgrade, script_location)
        return
    if await _at_head(engine, script_location):
        return  # a restart: no child, no Alembic, nothing to do
    url = engine.url.render_as_string(hide_password=False)
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "libs.common.migrate",
        str(script_location),
        env={**os.environ, MIGRATE_URL_ENV: url},
        stdin=asyncio.subprocess.DEVNULL,
    )
    if await child.wait() != 0:
        raise RuntimeError(f"the schema migration exited with status {child.returncode}")


# `revision = "0016"` / `down_revision = "0015"` as every script in `versions/` declares them.
_REVISION = re.compile(r"^(down_revision|revision)\b[^=\n]*=\s*[\"']?(\w+)", re.MULTILINE)


def head_revision(script_location: Path) -> str | None:
    """The single head of a linear history, read from the scripts without importing Alembic;
    None when the history has no single head (then the child decides)."""
    revisions, parents = set(), set()
    for script in (script_location / "versions").glob("*.py"):
        found = dict(_REVISION.findall(script.read_text(encoding="utf-8")))
        revisions.add(found.get("revision"))
        parents.add(found.get("down_revision"))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 and None not in revisions else None


async def _at_head(engine: AsyncEngine, script_location: Path) -> bool:
    head = head_revision(script_location)
    if head is None:
        return False
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    except DBAPIError:  # a new database: no version table yet
        return False
    return [row[0] for row in rows] == [head]


def run_alembic_env(target_metadata: Any = None) -> None:
    """Body of every service's `migrations/env.py`: migrate on the connection handed in."""
    from alembic import context

    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("migrations run through libs.common.db.migrate(), not the alembic CLI")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
