"""Retention SQL: partners' periods, reports past theirs, the read log's old rows."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, delete, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.sharing.access.models import PARTNERS
from services.sharing.retention.domain import Expiry, Periods
from services.sharing.retention.models import PERIODS
from services.sharing.vault.models import READS, REPORTS


async def periods_of(session: AsyncSession, partner_id: str) -> Periods:
    """One partner's own periods (empty: the network's apply)."""
    rows = await session.execute(
        select(PERIODS.c.tlp, PERIODS.c.days).where(PERIODS.c.partner_id == partner_id)
    )
    return Periods.from_rows((r.tlp, int(r.days)) for r in rows)


async def all_periods(session: AsyncSession) -> dict[str, Periods]:
    """Every partner's own periods, by partner id (partners without any are absent)."""
    pairs: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for r in await session.execute(select(PERIODS.c.partner_id, PERIODS.c.tlp, PERIODS.c.days)):
        pairs[r.partner_id].append((r.tlp, int(r.days)))
    return {p: Periods.from_rows(rows) for p, rows in pairs.items()}


async def partner_ids(session: AsyncSession) -> list[str]:
    """Every partner's id (disabled ones too: their reports age like any other)."""
    return list((await session.execute(select(PARTNERS.c.id))).scalars())


async def replace_periods(
    session: AsyncSession, partner_id: str, periods: Periods, actor: str, now: datetime
) -> None:
    """Store a partner's periods in place of the ones it had."""
    await session.execute(delete(PERIODS).where(PERIODS.c.partner_id == partner_id))
    rows = [
        {"partner_id": partner_id, "tlp": t, "days": d, "set_at": now, "set_by": actor}
        for t, d in periods.rows()
    ]
    if rows:
        await session.execute(PERIODS.insert(), rows)


_LATER = aliased(REPORTS)


async def expired(
    session: AsyncSession, due: Sequence[Expiry], limit: int
) -> list[tuple[str, str, str]]:
    """Up to `limit` live reports past their period, oldest first: `(report, partner, tlp)`.

    A report that a live report of the same partner follows up waits for it: a case's chain
    goes from its latest report back, so no live follow-up ever names a report already gone.
    """
    if not due:
        return []
    r = REPORTS.c
    past = or_(
        *(and_(r.partner_id == e.partner_id, r.tlp == e.tlp, r.received_at < e.cutoff) for e in due)
    )
    followed = exists().where(
        _LATER.c.follows == r.report_id,
        _LATER.c.partner_id == r.partner_id,
        _LATER.c.erased_at.is_(None),
    )
    query = (
        select(r.report_id, r.partner_id, r.tlp)
        .where(r.erased_at.is_(None), past, ~followed)
        .order_by(r.received_at, r.report_id)
        .limit(limit)
    )
    return [(row.report_id, row.partner_id, row.tlp) for row in await session.execute(query)]


async def prune_reads(session: AsyncSession, before: datetime, limit: int) -> int:
    """Delete up to `limit` read-log rows older than `before`; how many went."""
    ids = select(READS.c.id).where(READS.c.read_at < before).order_by(READS.c.id).limit(limit)
    found = list((await session.execute(ids)).scalars())
    if found:
        await session.execute(delete(READS).where(READS.c.id.in_(found)))
    return len(found)
