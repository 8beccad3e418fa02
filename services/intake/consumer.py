"""Intake's consumer: sharing's `lifeline.report.stored.v1` completes a report's receipt."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from libs.common.consumer import BatchHandler, Handler
from libs.common.db import transaction
from libs.common.events import Envelope, PermanentError
from libs.common.runtime import Runtime
from services.intake import repository as repo


class ReportStored(BaseModel):
    """Data of `lifeline.report.stored.v1` as far as intake needs it."""

    model_config = ConfigDict(extra="ignore")

    report_id: str
    stored_at: datetime


def stored_handler(runtime: Runtime) -> Handler:
    """Mark the receipt stored (a redelivery changes nothing)."""

    async def handle(event: Envelope) -> None:
        try:
            data = ReportStored.model_validate(event.data)
        except ValueError as exc:
            raise PermanentError("invalid report.stored data") from exc
        # Setting stored_at only where it is still empty is idempotent by itself: no inbox row.
        async with transaction(runtime.sessions) as session:
            await repo.mark_stored(session, data.report_id, data.stored_at)

    return handle


def stored_batch_handler(runtime: Runtime) -> BatchHandler:
    """Mark many receipts stored in one transaction (sharing stores reports in bursts)."""

    async def handle(events: list[Envelope]) -> None:
        pairs = [
            (s.report_id, s.stored_at)
            for s in map(ReportStored.model_validate, (e.data for e in events))
        ]
        await runtime.write(lambda conn: repo.mark_stored_blocking(conn, pairs))

    return handle
