"""Retention SQL: closed alerts with what hangs off them, old attempts, old warnings."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, exists, not_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from services.alerts.alerts.models import ALERTS, MATCHES, USED_LINKS
from services.alerts.delivery.health.domain import UNREACHABLE
from services.alerts.delivery.health.models import WARNINGS
from services.alerts.delivery.models import ATTEMPTS, DELIVERIES
from services.alerts.followups.models import UPDATES
from services.alerts.retention.domain import CLOSED, UNFINISHED

d = DELIVERIES.c


def _deleted(result: Any) -> int:
    return max(int(getattr(result, "rowcount", 0) or 0), 0)


def _nothing_to_send(owner: ColumnElement[str]) -> ColumnElement[bool]:
    """No delivery of this alert (or warning) is still to be sent."""
    return not_(exists().where(d.alert_id == owner, d.status.in_(UNFINISHED)))


async def _drop_deliveries(session: AsyncSession, owners: Sequence[str]) -> tuple[int, int]:
    """Delete the deliveries of these alerts or warnings and their attempts: (deliveries,
    attempts)."""
    ids = select(d.id).where(d.alert_id.in_(owners))
    attempts = await session.execute(delete(ATTEMPTS).where(ATTEMPTS.c.delivery_id.in_(ids)))
    deliveries = await session.execute(delete(DELIVERIES).where(d.alert_id.in_(owners)))
    return _deleted(deliveries), _deleted(attempts)


async def prune_alerts(session: AsyncSession, before: datetime, limit: int) -> dict[str, int]:
    """Up to `limit` closed alerts last changed before `before`, with their matches, updates,
    used ack links, deliveries and attempts."""
    a = ALERTS.c
    query = (
        select(a.id)
        .where(a.status.in_(CLOSED), a.updated_at < before, _nothing_to_send(a.id))
        .order_by(a.updated_at)
        .limit(limit)
    )
    ids = list((await session.execute(query)).scalars())
    if not ids:
        return {"alerts": 0, "deliveries": 0, "delivery_attempts": 0}
    deliveries, attempts = await _drop_deliveries(session, ids)
    for table in (MATCHES, UPDATES, USED_LINKS):
        await session.execute(delete(table).where(table.c.alert_id.in_(ids)))
    gone = await session.execute(delete(ALERTS).where(a.id.in_(ids), a.status.in_(CLOSED)))
    return {"alerts": _deleted(gone), "deliveries": deliveries, "delivery_attempts": attempts}


async def prune_attempts(session: AsyncSession, before: datetime, limit: int) -> int:
    """Up to `limit` attempts finished before `before`, of deliveries no longer being sent and
    not of an alert still open or acknowledged (its lawyer may still look at them)."""
    t, a = ATTEMPTS.c, ALERTS.c
    live = exists().where(a.id == d.alert_id, a.status.not_in(CLOSED))
    done = and_(d.id == t.delivery_id, d.status.not_in(UNFINISHED), not_(live))
    query = (
        select(t.id).where(t.finished_at < before, exists().where(done)).order_by(t.id).limit(limit)
    )
    ids = list((await session.execute(query)).scalars())
    if ids:
        await session.execute(delete(ATTEMPTS).where(t.id.in_(ids)))
    return len(ids)


async def prune_warnings(session: AsyncSession, before: datetime, limit: int) -> dict[str, int]:
    """Up to `limit` warnings made before `before` (never a lawyer's unreachable episode still
    going on), with their deliveries and attempts."""
    w = WARNINGS.c
    going_on = and_(w.problem == UNREACHABLE, w.ended_at.is_(None))
    query = (
        select(w.id)
        .where(w.created_at < before, not_(going_on), _nothing_to_send(w.id))
        .order_by(w.created_at)
        .limit(limit)
    )
    ids = list((await session.execute(query)).scalars())
    if not ids:
        return {"contact_warnings": 0, "deliveries": 0, "delivery_attempts": 0}
    deliveries, attempts = await _drop_deliveries(session, ids)
    await session.execute(delete(WARNINGS).where(w.id.in_(ids)))
    return {"contact_warnings": len(ids), "deliveries": deliveries, "delivery_attempts": attempts}
