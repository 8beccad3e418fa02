"""SQL of follow-ups: the chain of a report, the alerts of an original, their updates."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.sql import for_update, insert_ignore
from services.alerts.alerts.models import ALERTS, MATCHES
from services.alerts.followups.models import FOLLOW_UPS, UPDATES


async def original_of(session: AsyncSession, report_id: str) -> str | None:
    """The original a follow-up belongs to, if `report_id` is a follow-up seen before."""
    query = select(FOLLOW_UPS.c.original_id).where(FOLLOW_UPS.c.report_id == report_id)
    return (await session.execute(query)).scalar()


async def record_link(
    session: AsyncSession, report_id: str, original_id: str, received_at: datetime
) -> None:
    """Remember which original a follow-up belongs to (a redelivery changes nothing)."""
    values = {"report_id": report_id, "original_id": original_id, "received_at": received_at}
    await insert_ignore(session, FOLLOW_UPS, values)


async def alerts_of(
    session: AsyncSession, original_id: str, *, lock: bool = False
) -> list[RowMapping]:
    """Every alert derived from the original (through its matches); `lock`: for the update."""
    derived = select(MATCHES.c.alert_id).where(MATCHES.c.report_id == original_id)
    query = select(ALERTS).where(ALERTS.c.id.in_(derived)).order_by(ALERTS.c.id)
    if lock:
        query = for_update(session, query)
    return list((await session.execute(query)).mappings())


async def statuses(session: AsyncSession, alert_id: str) -> list[str]:
    """The statuses of the alert's updates so far, oldest first."""
    query = select(UPDATES.c.status).where(UPDATES.c.alert_id == alert_id)
    return list((await session.execute(query.order_by(UPDATES.c.sequence))).scalars())


async def insert_update(session: AsyncSession, values: Mapping[str, Any]) -> bool:
    """Record one follow-up on one alert; False if it was recorded before."""
    return await insert_ignore(session, UPDATES, values)


async def update_alert(session: AsyncSession, alert_id: str, values: Mapping[str, Any]) -> None:
    """Change an alert row."""
    await session.execute(update(ALERTS).where(ALERTS.c.id == alert_id).values(**values))


async def updates_of(session: AsyncSession, alert_id: str) -> list[RowMapping]:
    """The alert's updates, oldest first (what `GET /v1/alerts/{id}` lists)."""
    u = UPDATES.c
    query = select(u.report_id, u.sequence, u.status, u.shown, u.worse, u.reopened, u.created_at)
    return list(
        (await session.execute(query.where(u.alert_id == alert_id).order_by(u.sequence))).mappings()
    )
