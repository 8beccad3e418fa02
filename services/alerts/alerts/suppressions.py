"""SQL of "not my client": an entry's suppressions, the matches they keep from alerting, and
the resolved-alert figures of an organisation."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime

from sqlalchemy import RowMapping, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.alerts.alerts.domain import AlertStatus
from services.alerts.alerts.models import ALERTS, MATCHES, SUPPRESSIONS

S = SUPPRESSIONS.c


async def on_resolved(
    session: AsyncSession, alert_id: str, outcome: str, by: str, now: datetime
) -> None:
    """ "Not my client" keeps that person's reports from alerting the entry again; a corrected
    outcome takes it back."""
    if outcome == "not_my_client":
        await suppress_alert(session, alert_id, by, now)
    else:
        await lift_alert(session, alert_id, by, now)


async def suppress_alert(session: AsyncSession, alert_id: str, by: str, now: datetime) -> int:
    """Suppress every person the alert's reports were about, for its entry; how many new."""
    m = MATCHES.c
    rows = await session.execute(
        select(m.entry_id, m.person).where(m.alert_id == alert_id, m.person.is_not(None)).distinct()
    )
    pairs = {(r.entry_id, r.person) for r in rows}
    live = await active(session, {entry for entry, _ in pairs})
    new = [
        {
            "id": str(uuid.uuid4()),
            "entry_id": entry,
            "person": person,
            "alert_id": alert_id,
            "created_at": now,
            "created_by": by[:200],
            "suppressed": 0,
        }
        for entry, person in sorted(pairs)
        if (entry, person) not in live
    ]
    if new:
        await session.execute(SUPPRESSIONS.insert(), new)
    return len(new)


async def lift_alert(session: AsyncSession, alert_id: str, by: str, now: datetime) -> None:
    """Lift the suppressions an alert made (it was re-resolved with another outcome)."""
    await session.execute(
        update(SUPPRESSIONS)
        .where(S.alert_id == alert_id, S.lifted_at.is_(None))
        .values(lifted_at=now, lifted_by=by[:200])
    )


# Built once (the matching hot path): SQLAlchemy reuses its compiled form.
_ACTIVE = select(S.id, S.entry_id, S.person).where(
    S.entry_id.in_(bindparam("entry_ids", expanding=True)), S.lifted_at.is_(None)
)


async def active(session: AsyncSession, entry_ids: Collection[str]) -> dict[tuple[str, str], str]:
    """(entry, person) → suppression id, for the live suppressions of these entries."""
    if not entry_ids:
        return {}
    rows = await session.execute(_ACTIVE, {"entry_ids": sorted(entry_ids)})
    return {(r.entry_id, r.person): r.id for r in rows}


async def count(session: AsyncSession, suppression_id: str, now: datetime) -> None:
    """One more match kept from alerting."""
    await session.execute(
        update(SUPPRESSIONS)
        .where(S.id == suppression_id)
        .values(suppressed=S.suppressed + 1, last_suppressed_at=now)
    )


async def of_entry(session: AsyncSession, entry_id: str) -> list[RowMapping]:
    """An entry's live suppressions, oldest first."""
    query = (
        select(S.id, S.alert_id, S.created_at, S.created_by, S.suppressed, S.last_suppressed_at)
        .where(S.entry_id == entry_id, S.lifted_at.is_(None))
        .order_by(S.created_at, S.id)
    )
    return list((await session.execute(query)).mappings())


async def lift(
    session: AsyncSession, entry_id: str, suppression_id: str, by: str, now: datetime
) -> bool:
    """Lift one live suppression of an entry; False if there is none such."""
    result = await session.execute(
        update(SUPPRESSIONS)
        .where(S.id == suppression_id, S.entry_id == entry_id, S.lifted_at.is_(None))
        .values(lifted_at=now, lifted_by=by[:200])
        .returning(S.id)
    )
    return result.first() is not None


async def resolved_figures(
    session: AsyncSession, org_id: str, since: datetime | None
) -> list[RowMapping]:
    """(outcome, match strength, count) of the organisation's resolved alerts since `since`."""
    a = ALERTS.c
    query = select(a.resolution, a.decision, func.count().label("n")).where(
        a.org_id == org_id, a.status == AlertStatus.RESOLVED.value, a.resolution.is_not(None)
    )
    if since is not None:
        query = query.where(a.resolved_at >= since)
    rows = await session.execute(query.group_by(a.resolution, a.decision))
    return list(rows.mappings())


async def suppressed_total(session: AsyncSession, org_id: str) -> int:
    """Matches the organisation's live suppressions kept from alerting."""
    alerts = select(ALERTS.c.id).where(ALERTS.c.org_id == org_id)
    query = select(func.coalesce(func.sum(S.suppressed), 0)).where(
        S.alert_id.in_(alerts), S.lifted_at.is_(None)
    )
    return int((await session.execute(query)).scalar_one())
