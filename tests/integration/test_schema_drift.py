"""Each service's migrations build exactly the schema its models describe, on SQLite and
PostgreSQL (the migrations load no models at start-up, so only this test ties the two)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection

from libs.common import db


def _drift(conn: Connection, metadata: MetaData) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


@pytest.mark.parametrize("service", ["intake", "sharing", "alerts"])
async def test_the_migrated_schema_is_the_models(service: str, db_url: str) -> None:
    app = importlib.import_module(f"services.{service}.app")  # every context's tables
    metadata = importlib.import_module(f"services.{service}.models").metadata
    engine = db.create_engine(db_url)
    try:
        await db.migrate(engine, Path(app.__file__).parent / "migrations")
        async with engine.connect() as conn:
            assert await conn.run_sync(_drift, metadata) == []
    finally:
        await engine.dispose()
