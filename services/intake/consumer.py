"""Intake's consumer: sharing's `lifeline.report.stored.v1` completes a report's receipt."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.engine import Connection

from libs.common.consumer import BatchHandler, Handler
from libs.common.contracts import ReportStored, read_event
from libs.common.events import Envelope
from services.intake import repository as repo

# How long the receipts' consumer waits after a fetch that was not full (`ConsumerLoop.linger`):
# a receipt is read by a person, later; at 100 reports/s a quarter second makes one transaction
# of about 25 receipts instead of 25.
RECEIPTS_LINGER_S = 0.25

# `BatchWriter.carry`: a transaction that also does the writer's pending bookkeeping.
Carry = Callable[[Callable[[Connection], None]], Awaitable[None]]


def stored_handler(carry: Carry) -> Handler:
    """Mark the receipt stored (a redelivery changes nothing); bad data is poison."""

    async def handle(event: Envelope) -> None:
        data = read_event(event, ReportStored)
        # Setting stored_at only where it is still empty is idempotent by itself: no inbox row.
        pairs = [(data.report_id, data.stored_at)]
        await carry(lambda conn: repo.mark_stored_blocking(conn, pairs))

    return handle


def stored_batch_handler(carry: Carry) -> BatchHandler:
    """Mark many receipts stored in one transaction (sharing stores reports in bursts); any bad
    event makes the loop retry the batch one by one."""

    async def handle(events: list[Envelope]) -> None:
        pairs = [(s.report_id, s.stored_at) for s in (read_event(e, ReportStored) for e in events)]
        await carry(lambda conn: repo.mark_stored_blocking(conn, pairs))

    return handle
