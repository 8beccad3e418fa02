"""Follow-ups at the front door: a partner may follow up only a live report of its own.

Intake keeps a receipt of every report it accepted, per partner, and hears of erasures
(`report.erased`), so it can answer before anything is stored or published.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.consumer import Handler
from libs.common.contracts import ReportErased, read_event
from libs.common.db import transaction
from libs.common.errors import Conflict, InvalidInput
from libs.common.events import Envelope
from libs.common.runtime import Runtime
from services.intake import repository as repo


class UnknownOriginal(InvalidInput):
    """`follows` names no report of the caller's partner (another partner's looks the same)."""

    code = "unknown_original"


class OriginalErased(Conflict):
    """`follows` names a report that was erased: there is no case left to follow up."""

    code = "original_erased"


async def check_original(session: AsyncSession, partner_id: str, follows: str) -> None:
    """Refuse a follow-up of a report that is not this partner's, or that was erased."""
    row = await repo.receipt(session, follows, partner_id)
    if row is None:
        # Another partner's report is refused exactly like a report that never existed.
        raise UnknownOriginal(
            "follows names no report of your organisation",
            fields=[{"path": "follows", "reason": "not one of your reports"}],
        )
    if row["erased_at"] is not None:
        raise OriginalErased(
            "the report it follows was erased",
            fields=[{"path": "follows", "reason": "erased"}],
        )


def erased_handler(runtime: Runtime) -> Handler:
    """Mark the receipt of an erased report (idempotent by itself); bad data is poison."""

    async def handle(event: Envelope) -> None:
        data = read_event(event, ReportErased)
        async with transaction(runtime.sessions) as session:
            await repo.mark_erased(session, data.report_id, event.occurred_at)

    return handle
