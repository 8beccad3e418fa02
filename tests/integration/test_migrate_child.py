"""A service's start-up migration in a child process (`db.MIGRATE_IN_CHILD`), on real databases:
the schema reaches head as in process, Alembic stays out of the caller, a failure is raised."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from libs.common import db
from services.intake.app import MIGRATIONS
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
