"""The `report.received` consumer: each report (or a fetched batch of them) goes to matching."""

from __future__ import annotations

import asyncio

from libs.common.consumer import BatchHandler, Handler
from libs.common.contracts import ReportReceived, read_event
from libs.common.events import Envelope
from services.alerts.matching.service import Matcher


def received_handler(matcher: Matcher) -> Handler:
    """Match each received report; a contract violation is poison (dead-lettered at once)."""

    async def handle(event: Envelope) -> None:
        await matcher.on_received(event, read_event(event, ReportReceived))

    return handle


def received_batch_handler(matcher: Matcher) -> BatchHandler:
    """A fetched batch: one index read for all of it, only the reports that hit are matched,
    the rest recorded in one statement. Any failure (poison included) makes the loop retry the
    batch one by one."""

    async def handle(events: list[Envelope]) -> None:
        reports = [read_event(event, ReportReceived) for event in events]
        hits = await matcher.hits([t.value for r in reports for t in r.tokens])
        hit = [
            (e, r)
            for e, r in zip(events, reports, strict=True)
            if r.follows is None and any(t.value in hits for t in r.tokens)
        ]
        # Sharing's answers asked side by side: a backlog waits one round trip, not one per
        # report (the matches themselves still commit one by one, in stream order).
        answers = await asyncio.gather(*(matcher.disclosed(r, hits) for _, r in hit))
        disclosed = {e.id: a for (e, _), a in zip(hit, answers, strict=True)}
        nobody = []
        for event, report in zip(events, reports, strict=True):
            if report.follows is not None:
                await matcher.on_received(event, report)  # updates its original's alerts
            elif event.id in disclosed:
                await matcher.match(event, report, hits, disclosed=disclosed[event.id])
            else:
                nobody.append(event)
        if nobody:
            await matcher.mark_seen(nobody)

    return handle
