"""Alert use cases: list and show the caller's alerts, acknowledge by API or by signed link."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.auth.principal import Principal
from libs.common.clock import Clock
from libs.common.db import transaction
from libs.common.errors import InvalidInput, LifelineError, NotFound
from libs.common.paging import split_page
from services.alerts.alerts import repository as repo
from services.alerts.alerts import suppressions
from services.alerts.alerts.domain import (
    AlertStatus,
    ReminderPolicy,
    reminder_due,
)
from services.alerts.alerts.links import AckLink, LinkUsed
from services.alerts.alerts.schemas import (
    AckResult,
    AlertDetail,
    AlertOut,
    AttemptOut,
    DeliveryOut,
    ResolveIn,
    UpdateOut,
)
from services.alerts.alerts.views import ReportLink, alert_out, aware
from services.alerts.delivery import jobs
from services.alerts.delivery import repository as deliveries
from services.alerts.delivery.domain import LAWYER_ROLES
from services.alerts.delivery.profiles import repository as profiles
from services.alerts.delivery.secrets import SecretBox
from services.alerts.followups import repository as followups
from services.alerts.metrics import AlertsMetrics

log = logging.getLogger(__name__)
STATUSES = tuple(s.value for s in AlertStatus)


class AlertWithdrawn(LifelineError):
    """The alert was withdrawn (its report erased): there is no case left to resolve (409)."""

    status = 409
    code = "alert_withdrawn"


@dataclass
class Alerts:
    """The lawyer's side of alerts."""

    sessions: async_sessionmaker[AsyncSession]
    report_link: ReportLink
    box: SecretBox  # opens resolution notes
    wake_delivery: Callable[[], None]
    in_flight_s: float
    clock: Clock
    # When an acknowledged, unresolved alert reminds its lawyer (`reminders.py`).
    reminders: ReminderPolicy = field(default_factory=ReminderPolicy)
    minute_s: float = 60.0
    metrics: AlertsMetrics = field(default_factory=AlertsMetrics.detached)

    async def list(
        self,
        principal: Principal,
        status: str | None,
        position: tuple[datetime, str] | None,
        limit: int,
    ) -> tuple[list[AlertOut], tuple[datetime, str] | None]:
        """The caller's alerts, newest first, after `position`; and the last one's position
        when more follow."""
        if status is not None and status not in STATUSES:
            raise InvalidInput(
                "unknown status", fields=[{"path": "status", "reason": f"one of {STATUSES}"}]
            )
        async with self.sessions() as session:
            rows = await repo.list_alerts(session, principal.client_id, status, position, limit + 1)
        rows, more = split_page(rows, limit)
        last = (aware(rows[-1]["created_at"]), rows[-1]["id"]) if more else None
        return [alert_out(r, self.report_link, self.box) for r in rows], last

    async def get(self, principal: Principal, alert_id: str) -> AlertDetail:
        """One of the caller's alerts with its deliveries and attempts."""
        async with self.sessions() as session:
            row = await repo.get_alert(session, alert_id, principal.client_id)
            if row is None:
                raise NotFound("no such alert")
            jobs_ = await repo.deliveries_of(session, alert_id)
            attempts = await repo.attempts_of(session, [d["id"] for d in jobs_])
            updates = await followups.updates_of(session, alert_id)
        by_job: dict[str, list[AttemptOut]] = {}
        for t in attempts:
            by_job.setdefault(t["delivery_id"], []).append(
                AttemptOut(
                    attempt=t["attempt"],
                    started_at=aware(t["started_at"]),
                    outcome=t["outcome"],
                    http_status=t["http_status"],
                    error=t["error"],
                )
            )
        return AlertDetail(
            **alert_out(row, self.report_link, self.box).model_dump(),
            deliveries=[
                DeliveryOut(
                    id=d["id"],
                    channel=d["channel"],
                    kind=d["kind"],
                    step=d["step"],
                    status=d["status"],
                    attempts=by_job.get(d["id"], []),
                    delivered_at=aware(d["delivered_at"]) if d["delivered_at"] else None,
                )
                for d in jobs_
            ],
            updates=[
                UpdateOut(
                    report_id=u["report_id"],
                    status=u["status"] if u["shown"] else None,
                    worse=u["worse"],
                    reopened=u["reopened"],
                    at=aware(u["created_at"]),
                )
                for u in updates
            ],
        )

    async def ack(self, principal: Principal, alert_id: str) -> AckResult:
        """Acknowledge one of the caller's alerts."""
        return await self._ack(alert_id, principal.client_id, principal.client_id, "api", set())

    async def resolve(self, principal: Principal, alert_id: str, body: ResolveIn) -> AlertOut:
        """Say what became of the case; an open alert is acknowledged first (the ack path:
        escalation stops, the others are told). Resolving again replaces outcome and note."""
        async with self.sessions() as session:
            row = await repo.get_alert(session, alert_id, principal.client_id)
        if row is None:
            raise NotFound("no such alert")
        if row["status"] == AlertStatus.OPEN.value:
            await self.ack(principal, alert_id)
        now = self.clock.now()
        values = {
            "resolution": body.outcome,
            "resolution_note": self.box.seal_note(alert_id, body.note) if body.note else None,
            "resolved_at": now,
            "resolved_by": principal.client_id[:200],
            "updated_at": now,
        }
        async with transaction(self.sessions) as session:
            done = await repo.resolve(session, alert_id, principal.client_id, values)
            if done:
                await suppressions.on_resolved(
                    session, alert_id, body.outcome, principal.client_id, now
                )
            row = await repo.get_alert(session, alert_id, principal.client_id)
        if not done or row is None:
            raise AlertWithdrawn("the alert was withdrawn: its report was erased")
        # The outcome is a code; the note (it may name people) is never logged.
        log.info("alert resolved", extra={"alert_id": alert_id, "reason": body.outcome})
        return alert_out(row, self.report_link, self.box)

    async def language_of(self, alert_id: str) -> str | None:
        """The language of the lawyer an alert belongs to (what its ack page is shown in)."""
        async with self.sessions() as session:
            return await repo.language_of(session, alert_id)

    async def ack_by_link(self, link: AckLink) -> AckResult:
        """Acknowledge through a signed link sent to one contact; a link acts once (LinkUsed)."""
        alert_id, contact_id = link.alert_id, link.contact_id
        async with self.sessions() as session:
            contact = await profiles.contact(session, contact_id)
        if contact is None:
            who = "a former contact"
        elif contact["role"] in LAWYER_ROLES:
            who = f"{contact['lawyer_id']} (link)"
        else:
            who = f"{contact['name'] or contact['role'] + ' contact'} (link)"
        return await self._ack(alert_id, None, who, "link", {contact_id}, link=link)

    async def _ack(
        self,
        alert_id: str,
        lawyer_id: str | None,
        by: str,
        via: str,
        acker_contacts: set[str],
        *,
        link: AckLink | None = None,
    ) -> AckResult:
        now = self.clock.now()
        async with transaction(self.sessions) as session:
            if link is not None:
                # In the ack's transaction: a use that acknowledged nothing is not recorded.
                expires = datetime.fromtimestamp(link.expires, UTC)
                if not await repo.use_link(session, link.link_id, alert_id, expires, now):
                    raise LinkUsed("this link was used already: sign in to see the alert")
            # Serialised with `delivery.repository.claim_due`: no page is claimed after this.
            remind_at = reminder_due(now, self.reminders, 1, self.minute_s)
            done = await repo.acknowledge(
                session, alert_id, lawyer_id, by=by, via=via, now=now, remind_at=remind_at
            )
            row = await repo.get_alert(session, alert_id, lawyer_id)
            if row is None:
                raise NotFound("no such alert")
            if done:
                await deliveries.cancel_pages(session, alert_id, now)
                exclude = set(acker_contacts)
                if via == "api":
                    # The lawyer acked themself: tell the backups and the duty desk, not them.
                    own = await profiles.lawyer_contacts(session, row["lawyer_id"])
                    exclude |= {c["id"] for c in own if c["role"] in LAWYER_ROLES}
                await jobs.ack_notices(session, alert_id, exclude, now, row["reopen_count"])
        if done:
            log.info("alert acknowledged", extra={"alert_id": alert_id, "reason": via})
            # From the alert's creation, or its re-opening by a worse follow-up.
            opened = row["reopened_at"] or row["created_at"]
            self.metrics.acknowledged(via, now - aware(opened))
            self.wake_delivery()
            await self._pages_landed(alert_id)
        return AckResult(alert=alert_out(row, self.report_link, self.box), already=not done)

    async def _pages_landed(self, alert_id: str) -> None:
        """Return only once no page of the alert is on the wire: none lands after the ack."""
        # The wait is real time, like the sends it waits for (their timeouts are real time);
        # whether a page is still in flight is a question of the clock the worker marked it with.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.in_flight_s
        while loop.time() < deadline:
            async with self.sessions() as session:
                if not await deliveries.in_flight(session, alert_id, self.clock.now()):
                    return
            await asyncio.sleep(0.02)


def legacy_position(before: str | None) -> tuple[datetime, str] | None:
    """The position a deprecated `before` (`<created_at>|<id>`) names."""
    if not before:
        return None
    at, _, alert_id = before.partition("|")
    try:
        return datetime.fromisoformat(at), alert_id
    except ValueError:
        raise InvalidInput("bad cursor", fields=[{"path": "before", "reason": "invalid"}]) from None
