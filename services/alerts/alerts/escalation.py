"""Escalation: until an alert is acknowledged, re-notify, reach backups, then the duty contact.

All state is in the alert row (`step`, `next_step_at`): any replica may run a tick. Due alerts are
taken with FOR UPDATE SKIP LOCKED on PostgreSQL, and each step is claimed by a conditional
update (`status = open AND step = the step we read`), so a step runs once and never after an
acknowledgement committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.clock import Clock
from libs.common.db import transaction
from services.alerts.alerts import repository as repo
from services.alerts.alerts.domain import escalation_plan, step_due
from services.alerts.alerts.reminders import ReminderScheduler
from services.alerts.delivery import jobs
from services.alerts.delivery.profiles import repository as profiles

log = logging.getLogger(__name__)


class EscalationScheduler:
    """Runs the steps due by `clock`; looks every `poll_s` seconds of real time."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        clock: Clock,
        minute_s: float,
        poll_s: float,
        wake_delivery: Callable[[], None],
        batch: int = 100,
        reminders: ReminderScheduler | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.minute_s = minute_s
        self.poll_s = poll_s
        self.wake_delivery = wake_delivery
        self.batch = batch
        # Resolve reminders run on the same loop: one clock-driven timer task per process.
        self.reminders = reminders

    async def run(self, stop: asyncio.Event) -> None:
        """Tick until `stop`; errors pause a tick, never the scheduler."""
        while not stop.is_set():
            try:
                await self.tick()
                if self.reminders is not None and await self.reminders.tick():
                    self.wake_delivery()
            except Exception as exc:
                log.warning("escalation tick failed", extra={"reason": type(exc).__name__})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.poll_s)

    async def tick(self, now: datetime | None = None) -> int:
        """Run every step due by `now`; returns how many steps ran."""
        now = now or self.clock.now()
        ran = 0
        async with transaction(self.sessions) as session:
            due = await repo.due_for_escalation(session, now, self.batch)
            for alert in due:
                if await self._step(session, dict(alert), now):
                    ran += 1
        if ran:
            self.wake_delivery()
        return ran

    async def _step(self, session: AsyncSession, alert: dict[str, object], now: datetime) -> bool:
        policy = await profiles.policy(session, str(alert["org_id"]))
        plan = escalation_plan(policy)
        step = int(str(alert["step"])) + 1
        if step > len(plan):
            await self._advance(session, alert, step - 1, None, now)
            return False
        created = alert["created_at"]
        assert isinstance(created, datetime)
        if not await self._advance(
            session, alert, step, step_due(created, plan, step + 1, self.minute_s), now
        ):
            return False  # acknowledged or taken by another replica meanwhile
        await jobs.page(session, alert, step, plan[step - 1].audiences, now)
        log.info("escalated", extra={"alert_id": alert["id"], "attempt": step})
        return True

    async def _advance(
        self,
        session: AsyncSession,
        alert: dict[str, object],
        step: int,
        next_at: datetime | None,
        now: datetime,
    ) -> bool:
        current = int(str(alert["step"]))
        return await repo.advance_step(
            session, str(alert["id"]), current, step, next_at=next_at, now=now
        )
