"""The database unavailable for several rounds of redelivery: no event lost, processing resumes.

A handler that fails on a database error NAKs its event with a delay, and nats-server holds the
event that long in real time. The consumer's delays are a setting: this test shortens them and
keeps the database away for three times the longest, so every event comes back (and fails
again) more often than a poison message may before it is dead-lettered, and still none is.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from services.alerts.alerts.models import Alert
from services.alerts.models import DEAD_LETTERS
from tests.integration.alerts.conftest import alerts_stack_on
from tests.integration.alerts.support import TcpProxy, receiver, report_event, tokens_for, until
from tests.support.natsd import NatsServer

ALERTS = Alert.__table__  # type: ignore[attr-defined]
# The consumer's redelivery delays after the 1st, 2nd … failure (the last one repeats).
RETRY_DELAYS_S = (0.1, 0.25, 0.5, 1.0, 2.0)
OUTAGE_S = 3 * max(RETRY_DELAYS_S)
PEOPLE = [(f"Client{i} Ivanov", f"198{i}-05-0{i + 1}") for i in range(6)]


@asynccontextmanager
async def _outage_switch(
    db_url: str,
) -> AsyncIterator[tuple[str, Callable[[], Any], Callable[[], Any]]]:
    """(URL the service uses, start outage, end outage) for the backend of `db_url`."""
    if db_url.startswith("sqlite"):
        path = db_url.split("///", 1)[1]
        holder: list[sqlite3.Connection] = []

        def lock() -> sqlite3.Connection:
            conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
            conn.execute("BEGIN EXCLUSIVE")  # every writer now gets "database is locked"
            return conn

        def unlock(conn: sqlite3.Connection) -> None:
            conn.execute("ROLLBACK")
            conn.close()

        # In a thread: the service shares this event loop, and a transaction it has open (the
        # outcome of the page just received, say) can only end while the loop runs. Waiting for
        # the lock on the loop itself would deadlock until the busy timeout.
        async def down() -> None:
            holder.append(await asyncio.to_thread(lock))

        async def up() -> None:
            await asyncio.to_thread(unlock, holder.pop())

        yield db_url, down, up
        return
    parts = urlsplit(db_url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    await proxy.start()
    via_proxy = db_url.replace(f"@{parts.hostname}:{parts.port}/", f"@127.0.0.1:{proxy.port}/")
    if parts.port is None:
        via_proxy = db_url.replace(f"@{parts.hostname}/", f"@127.0.0.1:{proxy.port}/")
    try:
        yield via_proxy, proxy.stop, proxy.start
    finally:
        await proxy.stop()


@pytest.mark.timeout(240)
async def test_database_unavailable_for_three_times_the_longest_retry_delay_loses_no_event(
    own_nats: NatsServer, db_url_factory: Any, tmp_path: Path
) -> None:
    async with (
        _outage_switch(db_url_factory("alerts")) as (db_url, down, up),
        alerts_stack_on(
            own_nats.url, db_url, tmp_path, consumer_retry_delays_s=RETRY_DELAYS_S
        ) as stack,
        receiver() as hook,
    ):
        resp = await stack.call("PUT", "/v1/lawyer/profile", json={"webhook": {"url": hook.url}})
        hook.secret = next(iter(resp.json()["new_secrets"].values()))
        for i, (name, dob) in enumerate(PEOPLE):
            body = {"label": f"client {i}", "tokens": tokens_for(name, dob)}
            assert (await stack.call("POST", "/v1/watchlist/entries", json=body)).status_code == 201
        events = [report_event(tokens_for(name, dob)) for name, dob in PEOPLE]
        await stack.publish(events[0])
        assert await until(lambda: len(hook.unique()) == 1)

        await down()
        for event in events[1:]:
            await stack.publish(event)
        if not db_url.startswith("sqlite"):
            ready = await stack.http.get("/readyz")
            assert ready.status_code == 503 and "database" in ready.json()["detail"]
        await asyncio.sleep(OUTAGE_S)
        assert len(hook.unique()) == 1  # nothing could be processed meanwhile
        await up()

        assert await until(lambda: len(hook.unique()) == len(events), timeout=90), len(
            hook.unique()
        )
        assert {h.payload["data"]["report_id"] for h in hook.hits} == {
            e.data["report_id"] for e in events
        }
        assert (await stack.db(select(func.count()).select_from(ALERTS)))[0][0] == len(events)
        assert await stack.db(select(DEAD_LETTERS.c.id)) == []
        assert (await stack.http.get("/readyz")).json()["checks"]["database"] == "ok"
