"""SQL of delivery jobs: claim with a lease (SKIP LOCKED), load for sending, record outcomes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import RowMapping, and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.alerts.domain import NOTICE_KINDS
from services.alerts.models import Delivery, DeliveryAttempt
from services.alerts.repo_matching import ALERTS, is_postgres
from services.alerts.repo_profile import CONTACTS
from services.alerts.repo_watchlist import ENTRIES

DELIVERIES = Delivery.__table__  # type: ignore[attr-defined]
ATTEMPTS = DeliveryAttempt.__table__  # type: ignore[attr-defined]
PAGE_KINDS = ("alert", "escalation")


def _due(now: datetime) -> Any:
    d = DELIVERIES.c
    # A 'sending' row past its lease belongs to a worker that died: it is due again.
    return or_(
        and_(d.status == "pending", d.next_attempt_at <= now),
        and_(d.status == "sending", d.lease_until < now),
    )


async def claim_due(
    session: AsyncSession, now: datetime, limit: int, lease_s: float, in_flight_s: float
) -> list[RowMapping]:
    """Take up to `limit` due deliveries for this worker: they are on the wire from now on.

    Claiming is what an acknowledgement must not interleave with. On PostgreSQL the alerts of
    the claimed rows are held FOR SHARE (the ack updates its alert row, so the two serialise;
    SKIP LOCKED means a claim never waits, so the ack's alert-then-deliveries lock order cannot
    deadlock with it). On SQLite the claim is one write transaction, and writes are serial.
    Either the ack committed first, and its alert's pages are cancelled here instead of sent,
    or the claim did, and the ack waits for `in_flight_until` to clear before it returns.
    """
    d = DELIVERIES.c
    query = select(d.id, d.alert_id).where(_due(now)).order_by(d.next_attempt_at).limit(limit)
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    rows = (await session.execute(query)).all()
    if not rows:
        return []
    ids = [r.id for r in rows]
    if is_postgres(session):
        share = (
            select(ALERTS.c.id)
            .where(ALERTS.c.id.in_({r.alert_id for r in rows}))
            .with_for_update(read=True, skip_locked=True)
        )
        locked = {r.id for r in await session.execute(share)}
        ids = [r.id for r in rows if r.alert_id in locked]
    alert_open = (
        select(ALERTS.c.id).where(ALERTS.c.id == d.alert_id, ALERTS.c.status == "open").exists()
    )
    await session.execute(
        update(DELIVERIES)
        .where(d.id.in_(ids), _due(now), d.kind.in_(PAGE_KINDS), ~alert_open)
        .values(
            status="cancelled",
            last_error="skip:alert_not_open",
            lease_until=None,
            in_flight_until=None,
            updated_at=now,
        )
    )
    claimed = await session.execute(
        update(DELIVERIES)
        .where(d.id.in_(ids), _due(now), or_(d.kind.in_(NOTICE_KINDS), alert_open))
        .values(
            status="sending",
            attempts=d.attempts + 1,
            lease_until=now + timedelta(seconds=lease_s),
            in_flight_until=now + timedelta(seconds=in_flight_s),
            updated_at=now,
        )
        .returning(d.id, d.alert_id, d.attempts)
    )
    out = list(claimed.mappings())
    if out:
        await session.execute(
            ATTEMPTS.insert(),
            [
                {
                    "delivery_id": r["id"],
                    "attempt": r["attempts"],
                    "started_at": now,
                    "finished_at": now,
                    # Stays 'interrupted' if the worker dies mid-send: every attempt is on record.
                    "outcome": "interrupted",
                }
                for r in out
            ],
        )
    return out


async def load(session: AsyncSession, delivery_id: str) -> RowMapping | None:
    """The delivery with its contact, alert and entry label (read only, no lock)."""
    d, c, a = DELIVERIES.c, CONTACTS.c, ALERTS.c
    query = (
        select(
            d.id,
            d.kind,
            d.step,
            d.status,
            d.attempts,
            d.channel,
            d.contact_id,
            c.role,
            c.address,
            c.secret,
            c.pgp_key,
            c.disabled_at,
            a.id.label("alert_id"),
            a.status.label("alert_status"),
            a.lawyer_id,
            a.priority,
            a.decision,
            a.reason,
            a.agreed,
            a.incident_type,
            a.legal_basis,
            a.country,
            a.facility_kind,
            a.occurred_at,
            a.report_id,
            a.report_count,
            a.acked_by,
            a.acked_at,
            ENTRIES.c.label,
        )
        .select_from(
            DELIVERIES.join(ALERTS, a.id == d.alert_id)
            .join(ENTRIES, ENTRIES.c.id == a.entry_id)
            .outerjoin(CONTACTS, c.id == d.contact_id)
        )
        .where(d.id == delivery_id)
    )
    return (await session.execute(query)).mappings().first()


async def in_flight(session: AsyncSession, alert_id: str, now: datetime) -> int:
    """How many pages of the alert are on the wire now."""
    d = DELIVERIES.c
    result = await session.execute(
        select(func.count())
        .select_from(DELIVERIES)
        .where(d.alert_id == alert_id, d.kind.in_(PAGE_KINDS), d.in_flight_until > now)
    )
    return int(result.scalar_one())


async def finish(
    session: AsyncSession,
    delivery_id: str,
    attempt: int,
    delivery: dict[str, Any],
    outcome: dict[str, Any],
) -> bool:
    """Record an attempt's outcome; False if the job was cancelled or re-claimed meanwhile."""
    d = DELIVERIES.c
    result = await session.execute(
        update(DELIVERIES)
        .where(d.id == delivery_id, d.status == "sending", d.attempts == attempt)
        .values(lease_until=None, in_flight_until=None, **delivery)
        .returning(d.id)
    )
    await session.execute(
        update(ATTEMPTS)
        .where(ATTEMPTS.c.delivery_id == delivery_id, ATTEMPTS.c.attempt == attempt)
        .values(**outcome)
    )
    return result.first() is not None


async def cancel_pages(session: AsyncSession, alert_id: str, now: datetime) -> None:
    """Cancel every page of an alert not yet sent (after an ack or a withdrawal)."""
    d = DELIVERIES.c
    await session.execute(
        update(DELIVERIES)
        .where(
            d.alert_id == alert_id,
            d.kind.in_(PAGE_KINDS),
            d.status.in_(("pending", "sending")),
            # A page on the wire finishes and records its outcome; the ack waits for it.
            or_(d.in_flight_until.is_(None), d.in_flight_until < now),
        )
        .values(status="cancelled", lease_until=None, updated_at=now)
    )


async def paged_contacts(session: AsyncSession, alert_id: str) -> list[RowMapping]:
    """Contacts an alert has tried to reach (they get told who acknowledged it)."""
    d, c = DELIVERIES.c, CONTACTS.c
    query = (
        select(c.id, c.role, c.channel, c.disabled_at)
        .select_from(DELIVERIES.join(CONTACTS, c.id == d.contact_id))
        .where(d.alert_id == alert_id, d.kind.in_(PAGE_KINDS), d.attempts > 0)
        .distinct()
    )
    return list((await session.execute(query)).mappings())


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
