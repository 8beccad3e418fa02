"""All of intake's SQL (SQLAlchemy Core on the hot path)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, tuple_, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import Outbox, Report

REPORTS = Report.__table__  # type: ignore[attr-defined]
OUTBOX = Outbox.__table__  # type: ignore[attr-defined]


async def find_submission(
    session: AsyncSession, partner_id: str, client_report_id: str
) -> tuple[str, str] | None:
    """(report id, content MAC) of an earlier submission with the same client report id."""
    row = (
        await session.execute(
            select(REPORTS.c.report_id, REPORTS.c.content_mac).where(
                REPORTS.c.partner_id == partner_id,
                REPORTS.c.client_report_id == client_report_id,
            )
        )
    ).first()
    return (row.report_id, row.content_mac) if row else None


async def receipt(session: AsyncSession, report_id: str, partner_id: str) -> dict[str, Any] | None:
    """The progress of one report, only if it belongs to this partner."""
    row = (
        await session.execute(
            select(
                REPORTS.c.report_id,
                REPORTS.c.client_report_id,
                REPORTS.c.received_at,
                REPORTS.c.published_at,
                REPORTS.c.stored_at,
                REPORTS.c.follows,
                REPORTS.c.erased_at,
            ).where(REPORTS.c.report_id == report_id, REPORTS.c.partner_id == partner_id)
        )
    ).first()
    return dict(row._mapping) if row else None


async def receipts(
    session: AsyncSession, partner_id: str, before: str | None, limit: int
) -> list[dict[str, Any]]:
    """This partner's reports, newest first; `before` a report id: those received before it."""
    columns = (
        REPORTS.c.report_id,
        REPORTS.c.client_report_id,
        REPORTS.c.received_at,
        REPORTS.c.published_at,
        REPORTS.c.stored_at,
        REPORTS.c.follows,
        REPORTS.c.erased_at,
    )
    query = select(*columns).where(REPORTS.c.partner_id == partner_id)
    if before is not None:
        mark = (
            await session.execute(
                select(REPORTS.c.received_at).where(
                    REPORTS.c.report_id == before, REPORTS.c.partner_id == partner_id
                )
            )
        ).first()
        if mark is None:
            return []
        query = query.where(
            tuple_(REPORTS.c.received_at, REPORTS.c.report_id) < (mark.received_at, before)
        )
    query = query.order_by(REPORTS.c.received_at.desc(), REPORTS.c.report_id.desc()).limit(limit)
    return [dict(row._mapping) for row in (await session.execute(query)).all()]


async def mark_published(session: AsyncSession, event_ids: Sequence[str], now: datetime) -> None:
    """Note the publish ack (at `now`) of these reports' events."""
    await session.execute(
        update(REPORTS)
        .where(REPORTS.c.event_id.in_(event_ids), REPORTS.c.published_at.is_(None))
        .values(published_at=now)
    )


def mark_published_blocking(conn: Connection, event_ids: Sequence[str], now: datetime) -> None:
    """`mark_published` on a blocking connection (the relay's SQLite path)."""
    conn.execute(
        update(REPORTS)
        .where(REPORTS.c.event_id.in_(event_ids), REPORTS.c.published_at.is_(None))
        .values(published_at=now)
    )


def mark_stored_blocking(conn: Connection, stored: Sequence[tuple[str, datetime]]) -> None:
    """Note that sharing has stored these reports (report id, when), where not noted yet."""
    conn.execute(
        update(REPORTS)
        .where(REPORTS.c.report_id == bindparam("rid"), REPORTS.c.stored_at.is_(None))
        .values(stored_at=bindparam("sat")),
        [{"rid": rid, "sat": at} for rid, at in stored],
    )


async def mark_erased(session: AsyncSession, report_id: str, erased_at: datetime) -> None:
    """Note that sharing erased the report (it can no longer be followed up)."""
    await session.execute(
        update(REPORTS)
        .where(REPORTS.c.report_id == report_id, REPORTS.c.erased_at.is_(None))
        .values(erased_at=erased_at)
    )
