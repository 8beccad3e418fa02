"""A service's start-up migration in a child process (`db.MIGRATE_IN_CHILD`), on real databases:
the schema reaches head as in process, Alembic stays out of the caller, a failure is raised, and
a restart at head starts no child."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from libs.common import db
from services.alerts.app import MIGRATIONS as ALERTS
from services.intake.app import MIGRATIONS
from services.sharing.app import MIGRATIONS as SHARING
from tests.support.databases import Databases


@pytest.fixture
def in_child() -> Iterator[None]:
    db.MIGRATE_IN_CHILD = True
    yield
    db.MIGRATE_IN_CHILD = False


async def _tables(url: str) -> set[str]:
    engine = db.create_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
    finally:
        await engine.dispose()


async def test_the_child_brings_the_schema_to_the_same_head_as_in_process(
    db_url_factory: Databases, in_child: None
) -> None:
    by_child, in_process = db_url_factory("child"), db_url_factory("inproc")
    engine = db.create_engine(by_child)
    await db.migrate(engine, MIGRATIONS)
    await db.migrate(engine, MIGRATIONS)  # at head already: nothing to do, no error
    db.MIGRATE_IN_CHILD = False
    other = db.create_engine(in_process)
    await db.migrate(other, MIGRATIONS)
    heads = []
    for e in (engine, other):
        async with e.connect() as conn:
            heads.append(
                (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
            )
        await e.dispose()
    assert heads[0] == heads[1] and len(heads[0]) == 1
    assert await _tables(by_child) == await _tables(in_process)
    assert "outbox" in await _tables(by_child)


async def test_a_failed_child_migration_fails_the_start(
    db_url: str, in_child: None, tmp_path: Path
) -> None:
    engine = db.create_engine(db_url)
    try:
        with pytest.raises(RuntimeError, match="exited with status"):
            await db.migrate(engine, tmp_path / "no-such-migrations")
    finally:
        await engine.dispose()


@pytest.mark.parametrize("location", [MIGRATIONS, SHARING, ALERTS], ids=lambda p: p.parent.name)
def test_the_head_read_from_the_scripts_is_alembics(location: Path) -> None:
    assert db.head_revision(location) == ScriptDirectory(str(location)).get_current_head()


async def test_a_database_at_head_starts_no_child(
    db_url: str, in_child: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = db.create_engine(db_url)
    try:
        await db.migrate(engine, MIGRATIONS)  # a new database: the child brings it to head

        async def no_child(*args: object, **kwargs: object) -> None:
            raise AssertionError("a child was started for a database at head")

        monkeypatch.setattr(db.asyncio, "create_subprocess_exec", no_child)
        await db.migrate(engine, MIGRATIONS)
        async with engine.begin() as conn:  # one revision behind: the child must run again
            await conn.execute(text("UPDATE alembic_version SET version_num = '0005'"))
        with pytest.raises(AssertionError, match="a child was started"):
            await db.migrate(engine, MIGRATIONS)
    finally:
        await engine.dispose()
