"""`report.erased`: drop the matches derived from a report; alerts left with none are withdrawn."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.clock import Clock
from libs.common.consumer import Handler
from libs.common.contracts import ReportErased, read_event
from libs.common.db import transaction
from libs.common.events import Envelope
from libs.common.inbox import mark_processed
from services.alerts.alerts import repository as repo
from services.alerts.alerts.domain import AlertStatus
from services.alerts.delivery import jobs
from services.alerts.delivery.repository import cancel_pages
from services.alerts.models import INBOX

log = logging.getLogger(__name__)
_SUMMARY = ("decision", "reason", "agreed", "priority", "incident_type", "legal_basis", "country",
            "facility_kind", "occurred_at", "report_id", "disclosed")  # fmt: skip


@dataclass
class Eraser:
    """Withdraws what an erased report derived; a late copy of the report then derives nothing."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock

    async def on_erased(self, event: Envelope, report_id: str) -> int:
        """Process one erasure; returns how many alerts were withdrawn. Idempotent by event id."""
        withdrawn, now = 0, self.clock.now()
        async with transaction(self.sessions) as session:
            if not await mark_processed(session, INBOX, event, now):
                return 0
            await repo.mark_erased(session, report_id, now)
            for alert_id in await repo.drop_matches(session, report_id):
                if await self._refresh_or_withdraw(session, alert_id, now):
                    withdrawn += 1
        return withdrawn

    async def _refresh_or_withdraw(
        self, session: AsyncSession, alert_id: str, now: datetime
    ) -> bool:
        latest = await repo.latest_match(session, alert_id)
        if latest is not None:
            # Other reports of the same case remain: the alert now says what they say.
            count = await repo.match_count(session, alert_id)
            await repo.update_alert(
                session,
                alert_id,
                {"report_count": count, "updated_at": now, **{f: latest[f] for f in _SUMMARY}},
            )
            return False
        # Nothing the alert said may outlive the report it came from.
        await repo.update_alert(
            session,
            alert_id,
            {
                "status": AlertStatus.WITHDRAWN.value,
                "withdrawn_at": now,
                "updated_at": now,
                "next_step_at": None,
                "reason": "withdrawn: the report was erased",
                "agreed": "",
                "facility_kind": "",
                "occurred_at": "",
                "report_id": "",
                "report_count": 0,
                # The lawyer's note on the case is about what the report said, too.
                "resolution_note": None,
            },
        )
        await cancel_pages(session, alert_id, now)
        # Whoever was paged may be acting on it: they hear that it is withdrawn (no details).
        await jobs.withdrawal_notices(session, alert_id, now)
        log.info("alert withdrawn", extra={"alert_id": alert_id})
        return True


def erased_handler(eraser: Eraser) -> Handler:
    """Withdraw what an erased report derived."""

    async def handle(event: Envelope) -> None:
        await eraser.on_erased(event, read_event(event, ReportErased).report_id)

    return handle
