"""All of intake's SQL (SQLAlchemy Core on the hot path)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.sql import seek
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
    session: AsyncSession, partner_id: str, before: tuple[datetime, str] | None, limit: int
) -> list[dict[str, Any]]:
    """This partner's reports, newest first, after the (received_at, report_id) `before`."""
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
    order = (REPORTS.c.received_at, REPORTS.c.report_id)
    query = seek(query, order, before, descending=True).limit(limit)
    return [dict(row._mapping) for row in (await session.execute(query)).all()]


async def receipt_position(
    session: AsyncSession, partner_id: str, report_id: str
) -> tuple[datetime, str] | None:
    """Where one of this partner's reports sits in its receipts (None: not its report)."""
    query = select(REPORTS.c.received_at).where(
        REPORTS.c.report_id == report_id, REPORTS.c.partner_id == partner_id
    )
    received_at = (await session.execute(query)).scalar_one_or_none()
    return None if received_at is None else (received_at, report_id)


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
