"""The `report.received` consumer: each report (or a fetched batch of them) goes to matching."""

from __future__ import annotations

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
        nobody = []
        for event, report in zip(events, reports, strict=True):
            if report.follows is not None:
                await matcher.on_received(event, report)  # updates its original's alerts
            elif any(t.value in hits for t in report.tokens):
                await matcher.match(event, report, hits)
            else:
                nobody.append(event)
        if nobody:
            await matcher.mark_seen(nobody)

    return handle
