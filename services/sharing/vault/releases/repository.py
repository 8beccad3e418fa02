"""SQL of release requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.sql import for_update, insert_ignore, seek
from services.sharing.vault.releases.models import RELEASE_REQUESTS as REQ


async def insert(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Record a request; False when the organisation already asked about this report."""
    return await insert_ignore(session, REQ, values)


async def of_report(session: AsyncSession, report_id: str, partner_id: str) -> dict[str, Any]:
    """The request of one organisation about one report (it exists: callers inserted it)."""
    query = select(REQ).where(REQ.c.report_id == report_id, REQ.c.partner_id == partner_id)
    return dict((await session.execute(query)).mappings().one())


async def get(
    session: AsyncSession, request_id: str, *, lock: bool = False
) -> dict[str, Any] | None:
    """One request by id (row-locked on PostgreSQL when deciding it)."""
    query = select(REQ).where(REQ.c.id == request_id)
    if lock:
        query = for_update(session, query)
    row = (await session.execute(query)).mappings().first()
    return dict(row) if row else None


async def listing(
    session: AsyncSession,
    submitter_id: str | None,
    status: str | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Requests about one submitter's reports (every partner's for None), newest first, after
    the (requested_at, id) position `after`."""
    order = (REQ.c.requested_at, REQ.c.id)
    query = seek(select(REQ), order, after, descending=True).limit(limit)
    if submitter_id is not None:
        query = query.where(REQ.c.submitter_id == submitter_id)
    if status is not None:
        query = query.where(REQ.c.status == status)
    return [dict(r) for r in (await session.execute(query)).mappings().all()]


async def settle(
    session: AsyncSession, request_id: str, values: dict[str, Any], *, was: str
) -> bool:
    """Move a request on from status `was`; False when someone else decided it first."""
    result = await session.execute(
        update(REQ).where(REQ.c.id == request_id, REQ.c.status == was).values(**values)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def withdraw_report(session: AsyncSession, report_id: str, now: datetime) -> None:
    """An erased report's open requests have nothing left to release."""
    await session.execute(
        update(REQ)
        .where(REQ.c.report_id == report_id, REQ.c.status == "pending")
        .values(status="withdrawn", decided_at=now)
    )
