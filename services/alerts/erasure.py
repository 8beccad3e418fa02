"""`report.erased`: drop the matches derived from a report; alerts left with none are withdrawn."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Table, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.db import transaction
from libs.common.events import Envelope
from libs.common.inbox import insert_ignore, mark_processed, utcnow
from services.alerts import jobs
from services.alerts import repo_matching as repo
from services.alerts.domain import AlertStatus
from services.alerts.repo_deliveries import cancel_pages

log = logging.getLogger(__name__)
_SUMMARY = ("decision", "reason", "agreed", "priority", "incident_type", "legal_basis", "country",
            "facility_kind", "occurred_at", "report_id")  # fmt: skip


@dataclass
class Eraser:
    """Withdraws what an erased report derived; a late copy of the report then derives nothing."""

    sessions: async_sessionmaker[AsyncSession]
    inbox: Table
    erased: Table

    async def on_erased(self, event: Envelope, report_id: str) -> int:
        """Process one erasure; returns how many alerts were withdrawn. Idempotent by event id."""
        withdrawn = 0
        async with transaction(self.sessions) as session:
            if not await mark_processed(session, self.inbox, event):
                return 0
            await insert_ignore(
                session, self.erased, {"report_id": report_id, "erased_at": utcnow()}
            )
            m = repo.MATCHES.c
            rows = await session.execute(
                select(m.alert_id).where(m.report_id == report_id).distinct()
            )
            alert_ids = [r.alert_id for r in rows]
            await session.execute(delete(repo.MATCHES).where(m.report_id == report_id))
            for alert_id in alert_ids:
                if await self._refresh_or_withdraw(session, alert_id):
                    withdrawn += 1
        return withdrawn

    async def _refresh_or_withdraw(self, session: AsyncSession, alert_id: str) -> bool:
        m, a, now = repo.MATCHES.c, repo.ALERTS.c, utcnow()
        latest = (
            (
                await session.execute(
                    select(repo.MATCHES)
                    .where(m.alert_id == alert_id)
                    .order_by(m.received_at.desc())
                )
            )
            .mappings()
            .first()
        )
        if latest is not None:
            # Other reports of the same case remain: the alert now says what they say.
            count = await repo.match_count(session, alert_id)
            await session.execute(
                update(repo.ALERTS)
                .where(a.id == alert_id)
                .values(report_count=count, updated_at=now, **{f: latest[f] for f in _SUMMARY})
            )
            return False
        # Nothing the alert said may outlive the report it came from.
        await session.execute(
            update(repo.ALERTS)
            .where(a.id == alert_id)
            .values(
                status=AlertStatus.WITHDRAWN.value,
                withdrawn_at=now,
                updated_at=now,
                next_step_at=None,
                reason="withdrawn: the report was erased",
                agreed="",
                facility_kind="",
                occurred_at="",
                report_id="",
                report_count=0,
            )
        )
        await cancel_pages(session, alert_id, now)
        # Whoever was paged may be acting on it: they hear that it is withdrawn (no details).
        await jobs.withdrawal_notices(session, alert_id, now)
        log.info("alert withdrawn", extra={"alert_id": alert_id})
        return True
