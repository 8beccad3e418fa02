"""A committed report is published at once by the writer, not by the relay, and only once."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from libs.common import nats as natsx
from libs.common.subjects import REPORT_RECEIVED
from services.intake import repository as repo
from tests.integration.intake.conftest import IntakeStack, intake_stack_on
from tests.support.natsd import NatsServer
from tests.support.reports import report_body


async def _submit(stack: IntakeStack, n: int) -> list[str]:
    async def one() -> str:
        resp = await stack.http.post("/v1/reports", json=report_body(), headers=stack.headers())
        assert resp.status_code == 202, resp.text
        return str(resp.json()["report_id"])

    return list(await asyncio.gather(*(one() for _ in range(n))))


async def _outbox_rows(stack: IntakeStack) -> int:
    async with stack.app.state.container.runtime.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(repo.OUTBOX))).scalar_one())


async def _settled(stack: IntakeStack, report_ids: list[str]) -> None:
    """Every receipt says published (or stored) and the outbox is empty, within 5 s."""
    for _ in range(100):
        statuses = [
            (await stack.http.get(f"/v1/reports/{r}/receipt", headers=stack.headers())).json()
            for r in report_ids
        ]
        done = {s["status"] for s in statuses} <= {"published", "stored"}
        if done and await _outbox_rows(stack) == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not settled: {statuses}, outbox {await _outbox_rows(stack)}")


async def _wire(nats_url: str) -> tuple[Any, list[str]]:
    """Every report.received publish as it crosses the server (duplicates included)."""
    nc = await natsx.connect(nats_url, "wire")
    seen: list[str] = []

    async def arrived(msg: Any) -> None:
        seen.append(json.loads(msg.data)["data"]["report_id"])

    await nc.subscribe(REPORT_RECEIVED, cb=arrived)
    return nc, seen


async def test_with_the_relay_stopped_a_committed_report_is_still_published_and_forgotten(
    nats_server: NatsServer, db_url_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    async with intake_stack_on(nats_server.url, db_url_factory, tmp_path) as stack:
        runtime = stack.app.state.container.runtime
        relay = next(t for t in runtime.tasks if t.get_name() == "outbox-relay")
        relay.cancel()
        nc, seen = await _wire(nats_server.url)
        try:
            report_ids = await _submit(stack, 5)
            await _settled(stack, report_ids)
            assert sorted(seen) == sorted(report_ids)
        finally:
            await nc.close()


async def test_the_relay_never_sends_again_what_the_writer_has_in_hand(
    nats_server: NatsServer, db_url_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # A relay that wakes every 10 ms sees each row before its bookkeeping is committed.
    async with intake_stack_on(
        nats_server.url, db_url_factory, tmp_path, relay_interval_s=0.01
    ) as stack:
        nc, seen = await _wire(nats_server.url)
        try:
            report_ids = []
            for _ in range(10):
                report_ids += await _submit(stack, 5)
                await asyncio.sleep(0.02)
            await _settled(stack, report_ids)
            await asyncio.sleep(0.2)
            assert sorted(seen) == sorted(report_ids), "each event sent once"
        finally:
            await nc.close()
