"""A replica opens no more PostgreSQL connections than its settings allow, however busy it is:
that is what lets every replica of the deploy files fit the server's connection limit."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection

from libs.common.runtime import Runtime
from services.intake.app import MIGRATIONS
from services.intake.settings import IntakeSettings
from tests.conftest import PG_SKIP_REASON
from tests.support.databases import PgScratch


async def test_a_busy_replica_holds_at_most_its_share_of_connections(
    pg_scratch: PgScratch | None, tmp_path: Path
) -> None:
    if pg_scratch is None:
        pytest.skip(PG_SKIP_REASON)
    url = pg_scratch.take()
    settings = IntakeSettings(
        database_url=url, data_dir=tmp_path, db_pool_size=2, db_max_overflow=1, db_write_pool_size=1
    )
    assert settings.db_max_connections() == 4
    server = urlsplit(url.replace("+psycopg", ""))
    runtime = await Runtime.open(settings, MIGRATIONS)
    peak = 0
    try:
        async with await psycopg.AsyncConnection.connect(
            server._replace(path="/postgres").geturl(), autocommit=True
        ) as monitor:

            async def count() -> int:
                cur = await monitor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = %s",
                    (server.path.lstrip("/"),),
                )
                row = await cur.fetchone()
                return int(row[0]) if row else 0

            async def read() -> None:
                async with runtime.sessions() as session:
                    await session.execute(text("SELECT pg_sleep(0.2)"))

            def write(conn: Connection) -> None:
                conn.exec_driver_sql("SELECT pg_sleep(0.2)")

            work = asyncio.gather(
                *(read() for _ in range(12)), *(runtime.write(write) for _ in range(4))
            )
            while not work.done():
                peak = max(peak, await count())
                await asyncio.sleep(0.02)
            await work
    finally:
        await runtime.close()
        pg_scratch.give_back(url)
    assert peak == 4, f"{peak} connections at once"
