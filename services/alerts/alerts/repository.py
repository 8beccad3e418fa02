"""SQL of alerts: reading and acknowledging them, their deliveries, escalation and withdrawal."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.sql import for_update, insert_ignore, seek
from services.alerts.alerts.domain import AlertStatus
from services.alerts.alerts.models import ALERTS, ERASED, MATCHES, USED_LINKS
from services.alerts.delivery.models import ATTEMPTS, DELIVERIES
from services.alerts.watchlists.models import ENTRIES, LAWYERS

_COLUMNS = (*ALERTS.c, ENTRIES.c.label)


async def list_alerts(
    session: AsyncSession,
    lawyer_id: str,
    status: str | None,
    before: tuple[datetime, str] | None,
    limit: int,
) -> list[RowMapping]:
    """The lawyer's alerts, newest first, before a (created_at, id) cursor."""
    a = ALERTS.c
    query = (
        select(*_COLUMNS)
        .select_from(ALERTS.join(ENTRIES, ENTRIES.c.id == a.entry_id))
        .where(a.lawyer_id == lawyer_id)
    )
    if status:
        query = query.where(a.status == status)
    query = seek(query, (a.created_at, a.id), before, descending=True)
    rows = await session.execute(query.limit(limit))
    return list(rows.mappings())


async def get_alert(
    session: AsyncSession, alert_id: str, lawyer_id: str | None
) -> RowMapping | None:
    """One alert (with its entry label); only the lawyer's own unless `lawyer_id` is None."""
    query = (
        select(*_COLUMNS)
        .select_from(ALERTS.join(ENTRIES, ENTRIES.c.id == ALERTS.c.entry_id))
        .where(ALERTS.c.id == alert_id)
    )
    if lawyer_id is not None:
        query = query.where(ALERTS.c.lawyer_id == lawyer_id)
    return (await session.execute(query)).mappings().first()


async def acknowledge(
    session: AsyncSession,
    alert_id: str,
    lawyer_id: str | None,
    *,
    by: str,
    via: str,
    now: datetime,
    remind_at: datetime | None = None,
) -> bool:
    """Mark an open alert acknowledged and stop its timers; False if it was not open. Its
    resolve reminders start over from this acknowledgement (`remind_at`)."""
    a = ALERTS.c
    query = update(ALERTS).where(a.id == alert_id, a.status == AlertStatus.OPEN.value)
    if lawyer_id is not None:
        query = query.where(a.lawyer_id == lawyer_id)
    result = await session.execute(
        query.values(
            status=AlertStatus.ACKNOWLEDGED.value,
            acked_at=now,
            acked_by=by[:200],
            ack_via=via,
            next_step_at=None,
            remind_at=remind_at,
            reminders_sent=0,
            updated_at=now,
        ).returning(a.id)
    )
    return result.first() is not None


async def resolve(
    session: AsyncSession, alert_id: str, lawyer_id: str, values: Mapping[str, Any]
) -> bool:
    """Record (or replace) the resolution of an acknowledged or resolved alert; False if it is
    in neither state (withdrawn meanwhile)."""
    a = ALERTS.c
    settled = (AlertStatus.ACKNOWLEDGED.value, AlertStatus.RESOLVED.value)
    result = await session.execute(
        update(ALERTS)
        .where(a.id == alert_id, a.lawyer_id == lawyer_id, a.status.in_(settled))
        .values(status=AlertStatus.RESOLVED.value, remind_at=None, **values)
        .returning(a.id)
    )
    return result.first() is not None


async def language_of(session: AsyncSession, alert_id: str) -> str | None:
    """The language of the lawyer an alert belongs to (None for an unknown alert)."""
    query = (
        select(LAWYERS.c.language)
        .select_from(ALERTS.join(LAWYERS, LAWYERS.c.client_id == ALERTS.c.lawyer_id))
        .where(ALERTS.c.id == alert_id)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def use_link(
    session: AsyncSession, link_id: str, alert_id: str, expires_at: datetime, now: datetime
) -> bool:
    """Record an ack link's one use; False if it was used before."""
    # A link past its expiry is refused before it gets here: its row is no longer needed.
    await session.execute(delete(USED_LINKS).where(USED_LINKS.c.expires_at < now))
    values = {"link_id": link_id, "alert_id": alert_id, "used_at": now, "expires_at": expires_at}
    return await insert_ignore(session, USED_LINKS, values)


async def deliveries_of(session: AsyncSession, alert_id: str) -> list[RowMapping]:
    """An alert's deliveries, oldest first."""
    d = DELIVERIES.c
    rows = await session.execute(
        select(d.id, d.channel, d.kind, d.step, d.status, d.delivered_at, d.created_at)
        .where(d.alert_id == alert_id)
        .order_by(d.created_at, d.id)
    )
    return list(rows.mappings())


async def attempts_of(session: AsyncSession, delivery_ids: list[str]) -> list[RowMapping]:
    """Attempts of these deliveries, in order."""
    if not delivery_ids:
        return []
    t = ATTEMPTS.c
    rows = await session.execute(
        select(t.delivery_id, t.attempt, t.started_at, t.outcome, t.http_status, t.error)
        .where(t.delivery_id.in_(delivery_ids))
        .order_by(t.delivery_id, t.attempt)
    )
    return list(rows.mappings())


# --- escalation --------------------------------------------------------------------------


async def due_for_escalation(session: AsyncSession, now: datetime, limit: int) -> list[RowMapping]:
    """Open alerts whose next step is due; on PostgreSQL locked, skipping other replicas'."""
    a = ALERTS.c
    query = (
        select(
            a.id,
            a.lawyer_id,
            a.org_id,
            a.step,
            # A re-opened alert (a worse follow-up) escalates anew from when it re-opened.
            func.coalesce(a.reopened_at, a.created_at).label("created_at"),
            a.reopen_count.label("round"),
        )
        .where(a.status == AlertStatus.OPEN.value, a.next_step_at <= now)
        .order_by(a.next_step_at)
        .limit(limit)
    )
    return list((await session.execute(for_update(session, query, skip_locked=True))).mappings())


async def advance_step(
    session: AsyncSession,
    alert_id: str,
    from_step: int,
    step: int,
    *,
    next_at: datetime | None,
    now: datetime,
) -> bool:
    """Claim a step: move an open alert from `from_step` on; False if acked or taken meanwhile."""
    a = ALERTS.c
    result = await session.execute(
        update(ALERTS)
        .where(a.id == alert_id, a.status == AlertStatus.OPEN.value, a.step == from_step)
        .values(step=step, next_step_at=next_at, updated_at=now)
        .returning(a.id)
    )
    return result.first() is not None


# --- erasure -----------------------------------------------------------------------------


async def mark_erased(session: AsyncSession, report_id: str, now: datetime) -> None:
    """Remember an erased report: a late copy of it then derives nothing."""
    await insert_ignore(session, ERASED, {"report_id": report_id, "erased_at": now})


async def drop_matches(session: AsyncSession, report_id: str) -> list[str]:
    """Delete the report's (report, entry) matches; the alerts they belonged to."""
    m = MATCHES.c
    rows = await session.execute(select(m.alert_id).where(m.report_id == report_id).distinct())
    alert_ids = [r.alert_id for r in rows]
    await session.execute(delete(MATCHES).where(m.report_id == report_id))
    return alert_ids


async def latest_match(session: AsyncSession, alert_id: str) -> RowMapping | None:
    """The newest match an alert still has."""
    m = MATCHES.c
    query = select(MATCHES).where(m.alert_id == alert_id).order_by(m.received_at.desc())
    return (await session.execute(query)).mappings().first()


async def match_count(session: AsyncSession, alert_id: str) -> int:
    """How many (report, entry) pairs an alert still has."""
    result = await session.execute(
        select(func.count()).select_from(MATCHES).where(MATCHES.c.alert_id == alert_id)
    )
    return int(result.scalar_one())


async def update_alert(session: AsyncSession, alert_id: str, values: Mapping[str, Any]) -> None:
    """Change an alert's columns."""
    await session.execute(update(ALERTS).where(ALERTS.c.id == alert_id).values(**values))


async def matches_for_org(session: AsyncSession, report_id: str, org_id: str) -> list[RowMapping]:
    """The (report, entry) matches of one report whose entries belong to one organisation."""
    m = MATCHES.c
    query = (
        select(m.report_id, m.entry_id, m.alert_id, m.disclosed)
        .select_from(MATCHES.join(ENTRIES, ENTRIES.c.id == m.entry_id))
        .where(m.report_id == report_id, ENTRIES.c.org_id == org_id)
    )
    return list((await session.execute(query)).mappings())


async def disclose_match(session: AsyncSession, report_id: str, entry_id: str, shown: str) -> None:
    """Widen what one match may show."""
    m = MATCHES.c
    await session.execute(
        update(MATCHES)
        .where(m.report_id == report_id, m.entry_id == entry_id)
        .values(disclosed=shown)
    )


async def alert_row(session: AsyncSession, alert_id: str) -> RowMapping | None:
    """An alert's own columns (no join)."""
    return (await session.execute(select(ALERTS).where(ALERTS.c.id == alert_id))).mappings().first()
