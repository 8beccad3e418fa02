"""Creating delivery jobs, always inside the transaction that decided them (alert, step, ack)."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.alerts.alerts.domain import Audience
from services.alerts.alerts.models import ALERTS
from services.alerts.delivery import repository as repo
from services.alerts.delivery.domain import (
    ACK_NOTICE_STEP,
    LAWYER_ROLES,
    UPDATE_STEP,
    WITHDRAWAL_STEP,
)
from services.alerts.delivery.health import warnings
from services.alerts.delivery.health.domain import HealthRules
from services.alerts.delivery.profiles import repository as profiles
from services.alerts.delivery.rows import Claim, job_row
from services.alerts.rotas import repository as rotas

log = logging.getLogger(__name__)


def _usable(rows: Sequence[RowMapping], roles: Collection[str]) -> list[RowMapping]:
    return [r for r in rows if r["role"] in roles and r["disabled_at"] is None]


def targets(
    own: Sequence[RowMapping],
    duty: Sequence[RowMapping],
    step: int,
    audiences: Collection[Audience],
    *,
    every_channel: bool = False,
) -> list[RowMapping]:
    """Who one step pages; the first page goes to the lawyer's primary channel only, or to
    every channel at once when `every_channel` (a highest-priority alert)."""
    out: list[RowMapping] = []
    if Audience.LAWYER in audiences:
        channels = _usable(own, LAWYER_ROLES)
        # Otherwise the secondary channel joins on the primary's first failure (see
        # `secondary`); reminders go to every channel the lawyer has.
        out += channels if step > 0 or every_channel else channels[:1]
    if Audience.BACKUP in audiences:
        out += _usable(own, ("backup",))
    if Audience.DUTY in audiences:
        out += _usable(duty, ("duty",))
    return out


async def insert_pages(
    session: AsyncSession,
    alert_id: str,
    contacts: Sequence[RowMapping],
    *,
    step: int,
    now: datetime,
    claim: Claim | None = None,
    round_: int = 0,
) -> list[tuple[dict[str, Any], RowMapping]]:
    """Insert one step's deliveries (idempotent by key); (job row, contact) of those created."""
    if not contacts:
        log.warning("alert has nobody to page", extra={"alert_id": alert_id, "attempt": step})
        await _nobody(session, alert_id, now)
        return []
    kind = "alert" if step == 0 else "escalation"
    rows = [
        job_row(alert_id, contact, step, kind, now, claim=claim, round_=round_)
        for contact in contacts
    ]
    if claim is not None:
        # The first page of an alert created in this transaction: its keys cannot exist yet.
        await repo.insert_claimed(session, rows, now)
        return list(zip(rows, contacts, strict=True))
    inserted = await repo.insert_new(session, rows)
    return [
        pair for pair, new in zip(zip(rows, contacts, strict=True), inserted, strict=True) if new
    ]


async def page(
    session: AsyncSession,
    alert: dict[str, Any],
    step: int,
    audiences: Collection[Audience],
    now: datetime,
) -> int:
    """Create the (unclaimed) deliveries of one escalation step."""
    own = await profiles.lawyer_contacts(session, alert["lawyer_id"])
    duty = []
    if Audience.DUTY in audiences:
        # Whoever is on duty as this step runs (the rota's member then, or the static desk).
        duty = await rotas.duty_at(session, alert["org_id"], now)
    chosen = targets(own, duty, step, audiences)
    # A re-opened alert's escalation is a new round with keys of its own (`followups/`).
    round_ = int(alert.get("round") or 0)
    return len(await insert_pages(session, alert["id"], chosen, step=step, now=now, round_=round_))


async def _nobody(session: AsyncSession, alert_id: str, now: datetime) -> None:
    """An alert with nobody to page: its lawyer counts as unreachable (the duty desk is told
    now rather than at the next health check)."""
    query = select(ALERTS.c.lawyer_id, ALERTS.c.org_id).where(ALERTS.c.id == alert_id)
    alert = (await session.execute(query)).first()
    if alert is not None:
        # Default rules: only contacts that are disabled or absent matter here.
        await warnings.check_lawyer(session, alert.lawyer_id, alert.org_id, HealthRules(), now)


async def secondary(
    session: AsyncSession, alert_id: str, lawyer_id: str, *, step: int, kind: str, now: datetime
) -> int:
    """The lawyer's other channel, after the first failure of the primary (idempotent)."""
    own = await profiles.lawyer_contacts(session, lawyer_id)
    rows = [job_row(alert_id, c, step, kind, now) for c in _usable(own, ("secondary",))]
    return await repo.insert_many(session, rows)


async def ack_notices(
    session: AsyncSession,
    alert_id: str,
    exclude: Collection[str],
    now: datetime,
    round_: int = 0,
) -> int:
    """Tell everyone the alert reached (except whoever acknowledged) that it is taken; a
    re-opened alert's later ack (`round_`, `followups/`) is told again."""
    return await _notices(
        session, alert_id, "ack_notice", ACK_NOTICE_STEP, exclude=exclude, now=now, round_=round_
    )


async def withdrawal_notices(session: AsyncSession, alert_id: str, now: datetime) -> int:
    """Tell everyone the alert reached, whoever acked it included, that it was withdrawn."""
    return await _notices(session, alert_id, "withdrawal", WITHDRAWAL_STEP, exclude=(), now=now)


async def update_notices(session: AsyncSession, alert_id: str, now: datetime) -> int:
    """Tell everyone the alert reached that its details were released to them."""
    return await _notices(session, alert_id, "update", UPDATE_STEP, exclude=(), now=now)


async def followup_notices(
    session: AsyncSession, alert_id: str, lawyer_id: str, step: int, now: datetime
) -> int:
    """Tell the alert's lawyer, on each of their own channels, what a follow-up says."""
    own = await profiles.lawyer_contacts(session, lawyer_id)
    rows = [job_row(alert_id, c, step, "followup", now) for c in _usable(own, LAWYER_ROLES)]
    if not rows:
        log.warning("alert has nobody to page", extra={"alert_id": alert_id, "attempt": step})
    return await repo.insert_many(session, rows)


async def reminder_notices(
    session: AsyncSession, alert_id: str, lawyer_id: str, step: int, now: datetime, *, round_: int
) -> int:
    """Remind the alert's lawyer, on each of their own channels, to resolve it."""
    own = await profiles.lawyer_contacts(session, lawyer_id)
    rows = [
        job_row(alert_id, c, step, "resolve_reminder", now, round_=round_)
        for c in _usable(own, LAWYER_ROLES)
    ]
    if not rows:
        log.warning("alert has nobody to page", extra={"alert_id": alert_id, "attempt": step})
    return await repo.insert_many(session, rows)


async def _notices(
    session: AsyncSession,
    alert_id: str,
    kind: str,
    step: int,
    *,
    exclude: Collection[str],
    now: datetime,
    round_: int = 0,
) -> int:
    paged = [c for c in await repo.paged_contacts(session, alert_id) if c["id"] not in exclude]
    roles = ("primary", "secondary", "backup", "duty")
    rows = [job_row(alert_id, c, step, kind, now, round_=round_) for c in _usable(paged, roles)]
    return await repo.insert_many(session, rows)
