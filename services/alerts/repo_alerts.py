"""SQL of reading and acknowledging alerts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import RowMapping, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.alerts.domain import AlertStatus
from services.alerts.repo_matching import ALERTS
from services.alerts.repo_watchlist import ENTRIES

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
    if before is not None:
        at, alert_id = before
        query = query.where((a.created_at < at) | ((a.created_at == at) & (a.id < alert_id)))
    rows = await session.execute(query.order_by(a.created_at.desc(), a.id.desc()).limit(limit))
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
) -> bool:
    """Mark an open alert acknowledged and stop its timers; False if it was not open."""
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
            updated_at=now,
        ).returning(a.id)
    )
    return result.first() is not None
