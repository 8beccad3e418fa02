"""Intake never loses a report: NATS killed mid-stream, every accepted report published once."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from sqlalchemy import func, select

from libs.common import nats as natsx
from libs.common.events import Envelope
from libs.common.subjects import REPORT_RECEIVED
from services.intake import repository as repo
from tests.integration.intake.conftest import intake_stack_on
from tests.support.natsd import NatsServer
from tests.support.reports import report_body


async def test_nats_killed_during_500_submissions(
    own_nats: NatsServer, db_url_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    async with intake_stack_on(own_nats.url, db_url_factory, tmp_path, wire=True) as stack:
        stack.app.state.container.intake.limiter.burst = 10_000
        headers = stack.headers()
        accepted: list[str] = []
        queue = list(range(500))

        async def submitter() -> None:
            while queue:
                queue.pop()
                resp = await stack.http.post(
                    "/v1/reports", json=report_body(), headers=headers, timeout=10
                )
                assert resp.status_code == 202, resp.text
                accepted.append(resp.json()["report_id"])

        async def chaos() -> None:
            while len(accepted) < 100:
                await asyncio.sleep(0.01)
            own_nats.stop(signal.SIGKILL)
            await asyncio.sleep(3)
            own_nats.start()

        await asyncio.gather(chaos(), *[submitter() for _ in range(8)])
        assert len(accepted) == 500

        async def pending() -> int:
            async with stack.app.state.container.runtime.sessions() as s:
                return int(
                    (await s.execute(select(func.count()).select_from(repo.OUTBOX))).scalar_one()
                )

        for _ in range(300):
            if await pending() == 0:
                break
            await asyncio.sleep(0.1)
        assert await pending() == 0

    nc = await natsx.connect(own_nats.url, "check")
    try:
        js = nc.jetstream()
        # The stream also holds sharing's report.stored events: count the received ones only.
        info = await js.stream_info("LIFELINE_RECEIVED", subjects_filter=REPORT_RECEIVED)
        received = (info.state.subjects or {}).get(REPORT_RECEIVED, 0)
        sub = await js.subscribe(REPORT_RECEIVED, ordered_consumer=True)
        seen = [
            Envelope.model_validate_json((await sub.next_msg(timeout=5)).data).data["report_id"]
            for _ in range(received)
        ]
    finally:
        await nc.close()
    assert sorted(seen) == sorted(accepted), "every accepted report exactly once in the stream"
