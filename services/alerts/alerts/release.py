"""`report.released`: details a submitter (or a policy) released reach the organisation's alerts."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.clock import Clock
from libs.common.consumer import Handler
from libs.common.contracts import ReportReleased, read_event
from libs.common.db import transaction
from libs.common.events import Envelope
from libs.common.inbox import mark_processed
from services.alerts.alerts import repository as repo
from services.alerts.alerts.domain import EVERY_DETAIL, AlertStatus, disclosed_of, widened
from services.alerts.delivery import jobs
from services.alerts.models import INBOX

log = logging.getLogger(__name__)


@dataclass
class Releaser:
    """Widens what an organisation's alerts about a report show, and tells whoever was paged."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    wake_delivery: Callable[[], None]

    async def on_released(self, event: Envelope, data: ReportReleased) -> int:
        """Apply one release; returns how many alerts now show more. Idempotent by event id."""
        more, now, widened_alerts = disclosed_of(data.fields), self.clock.now(), 0
        async with transaction(self.sessions) as session:
            if not await mark_processed(session, INBOX, event, now):
                return 0
            for match in await repo.matches_for_org(session, data.report_id, data.partner_id):
                shown = widened(match["disclosed"], more)
                await repo.disclose_match(session, data.report_id, match["entry_id"], shown)
                if await self._apply(session, match["alert_id"], data, shown):
                    widened_alerts += 1
        if widened_alerts:
            self.wake_delivery()
        return widened_alerts

    async def _apply(
        self, session: AsyncSession, alert_id: str, data: ReportReleased, shown: str
    ) -> bool:
        alert = await repo.alert_row(session, alert_id)
        # An alert that shows another (newer) report of the case keeps showing that one.
        if alert is None or alert["report_id"] != data.report_id:
            return False
        now = self.clock.now()
        grew = shown != alert["disclosed"]
        # A policy may release part at once while the submitter decides the rest.
        still_asked = data.decision == "policy" and shown != EVERY_DETAIL
        release = "requested" if still_asked else data.decision
        await repo.update_alert(
            session, alert_id, {"disclosed": shown, "release": release, "updated_at": now}
        )
        if not grew or alert["status"] == AlertStatus.WITHDRAWN.value:
            return False
        await jobs.update_notices(session, alert_id, now)
        log.info("alert details released", extra={"alert_id": alert_id})
        return True


def released_handler(releaser: Releaser) -> Handler:
    """Apply a release to the alerts it concerns."""

    async def handle(event: Envelope) -> None:
        await releaser.on_released(event, read_event(event, ReportReleased))

    return handle
