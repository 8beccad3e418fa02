"""A follow-up reaches the alerts of its original: `alert.updated` to the same lawyer, and a
worse status re-opens escalation of an acknowledged alert (`docs/alerts.md`, "Follow-ups")."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.clock import Clock
from libs.common.contracts import ReportReceived
from libs.common.db import transaction
from services.alerts.alerts.domain import AlertStatus, escalation_plan, step_due
from services.alerts.delivery import jobs
from services.alerts.delivery.profiles import repository as profiles
from services.alerts.followups import repository as repo
from services.alerts.followups.domain import current_status, is_worse, notice_step, reopens

log = logging.getLogger(__name__)
# Organisation → the report fields its lawyers may read (`Disclosure.readable`).
Readable = Callable[[ReportReceived, Collection[str]], Awaitable[dict[str, frozenset[str]]]]


@dataclass
class FollowUps:
    """Applies follow-ups to the alerts derived from their original."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    minute_s: float
    readable: Readable
    wake_delivery: Callable[[], None]

    async def apply(self, report: ReportReceived) -> set[str]:
        """Update every alert of the original; the entries they are about (which then get no
        new alert from this report). Idempotent by (alert, follow-up)."""
        assert report.follows is not None
        async with self.sessions() as session:
            original = await repo.original_of(session, report.follows) or report.follows
            orgs = {a["org_id"] for a in await repo.alerts_of(session, original)}
        # Asked before the write transaction, which must not wait on another service.
        readable = await self.readable(report, orgs) if orgs else {}
        now, entries, sent = self.clock.now(), set(), 0
        async with transaction(self.sessions) as session:
            await repo.record_link(session, report.report_id, original, report.received_at)
            for alert in await repo.alerts_of(session, original, lock=True):
                entries.add(alert["entry_id"])
                sent += await self._update(session, alert, report, readable, now)
        if sent:
            self.wake_delivery()
        return entries

    async def _update(
        self,
        session: AsyncSession,
        alert: RowMapping,
        report: ReportReceived,
        readable: dict[str, frozenset[str]],
        now: datetime,
    ) -> int:
        if alert["status"] == AlertStatus.WITHDRAWN.value:
            return 0  # its report was erased: nothing is left to update
        earlier = await repo.statuses(session, alert["id"])
        status = report.status.value if report.status is not None else "unknown"
        current = current_status(earlier)
        reopen = reopens(status, current, alert["status"])
        fields = readable.get(alert["org_id"], frozenset())
        shown = "*" in fields or "status" in fields
        sequence = len(earlier) + 1
        row = {
            "alert_id": alert["id"],
            "report_id": report.report_id,
            "sequence": sequence,
            "status": status,
            "shown": shown,
            "worse": is_worse(status, current),
            "reopened": reopen,
            "created_at": now,
        }
        if not await repo.insert_update(session, row):
            return 0  # this follow-up reached this alert before
        values: dict[str, Any] = {"case_status": status if shown else None, "updated_at": now}
        if reopen:
            policy = await profiles.policy(session, alert["org_id"])
            values |= {
                "status": AlertStatus.OPEN.value,
                "acked_at": None,
                "acked_by": None,
                "ack_via": None,
                "step": 0,
                "reopened_at": now,
                "reopen_count": alert["reopen_count"] + 1,
                "next_step_at": step_due(now, escalation_plan(policy), 1, self.minute_s),
            }
        await repo.update_alert(session, alert["id"], values)
        sent = await jobs.followup_notices(
            session, alert["id"], alert["lawyer_id"], notice_step(sequence), now
        )
        # A status is a code, never content; the report id is an id.
        log.info(
            "alert updated",
            extra={"alert_id": alert["id"], "report_id": report.report_id, "reason": status},
        )
        return sent
