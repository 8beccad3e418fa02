"""Resolve reminders: an acknowledged alert nobody resolved reminds its lawyer, by the clock.

Like escalation, all state is in the alert row (`remind_at`, `reminders_sent`): any replica may
tick. Each reminder is claimed by a conditional update (`status = acknowledged AND
reminders_sent = the count we read`), so it goes out once and never after a resolution (or a
re-opening) committed. A new acknowledgement starts the count over (`repository.acknowledge`).
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import RowMapping, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.clock import Clock
from libs.common.db import transaction
from libs.common.sql import for_update
from services.alerts.alerts.domain import REMINDER_STEP, AlertStatus, ReminderPolicy, reminder_due
from services.alerts.alerts.models import ALERTS
from services.alerts.delivery import jobs

log = logging.getLogger(__name__)


async def due(session: AsyncSession, now: datetime, limit: int) -> list[RowMapping]:
    """Acknowledged alerts whose next reminder is due; on PostgreSQL locked, skipping others'."""
    a = ALERTS.c
    query = (
        select(a.id, a.lawyer_id, a.acked_at, a.reminders_sent, a.reopen_count)
        .where(a.status == AlertStatus.ACKNOWLEDGED.value, a.remind_at <= now)
        .order_by(a.remind_at)
        .limit(limit)
    )
    return list((await session.execute(for_update(session, query, skip_locked=True))).mappings())


async def claim(
    session: AsyncSession, alert_id: str, sent: int, next_at: datetime | None, now: datetime
) -> bool:
    """Count reminder `sent + 1` as ours; False if resolved, re-opened or taken meanwhile."""
    a = ALERTS.c
    result = await session.execute(
        update(ALERTS)
        .where(
            a.id == alert_id,
            a.status == AlertStatus.ACKNOWLEDGED.value,
            a.reminders_sent == sent,
        )
        .values(reminders_sent=sent + 1, remind_at=next_at, updated_at=now)
        .returning(a.id)
    )
    return result.first() is not None


class ReminderScheduler:
    """Sends the resolve reminders due by `clock` (run by the escalation scheduler's loop)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Clock,
        policy: ReminderPolicy,
        minute_s: float,
        batch: int = 100,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.policy = policy
        self.minute_s = minute_s
        self.batch = batch

    async def tick(self, now: datetime | None = None) -> int:
        """Send every reminder due by `now`; returns how many alerts were reminded."""
        now = now or self.clock.now()
        sent = 0
        async with transaction(self.sessions) as session:
            for alert in await due(session, now, self.batch):
                if await self._remind(session, alert, now):
                    sent += 1
        return sent

    async def _remind(self, session: AsyncSession, alert: RowMapping, now: datetime) -> bool:
        nth = int(alert["reminders_sent"]) + 1
        acked = alert["acked_at"]
        assert isinstance(acked, datetime)
        if acked.tzinfo is None:
            acked = acked.replace(tzinfo=now.tzinfo)
        later = reminder_due(acked, self.policy, nth + 1, self.minute_s)
        if not await claim(session, alert["id"], nth - 1, later, now):
            return False
        if reminder_due(acked, self.policy, nth, self.minute_s) is None:
            return False  # the policy shrank since: stop without sending
        await jobs.reminder_notices(
            session,
            alert["id"],
            alert["lawyer_id"],
            REMINDER_STEP + nth,
            now,
            round_=int(alert["reopen_count"]),
        )
        log.info("resolve reminder", extra={"alert_id": alert["id"], "attempt": nth})
        return True
