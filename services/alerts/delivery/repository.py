"""SQL of delivery jobs: create, claim with a lease (SKIP LOCKED), load for sending, finish."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import RowMapping, and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.sql import for_update, insert_many_ignore, is_postgres
from services.alerts.alerts.models import ALERTS
from services.alerts.delivery.domain import (
    FROM_ALERT,
    FROM_CONTACT,
    FROM_DELIVERY,
    NOTICE_KINDS,
    PAGE_KINDS,
    SendContext,
    send_context,
)
from services.alerts.delivery.health import repository as health
from services.alerts.delivery.models import ATTEMPTS, DELIVERIES
from services.alerts.delivery.profiles.models import CONTACTS
from services.alerts.watchlists.models import ENTRIES, LAWYERS


def _due(now: datetime) -> Any:
    d = DELIVERIES.c
    # A 'sending' row past its lease belongs to a worker that died: it is due again.
    return or_(
        and_(d.status == "pending", d.next_attempt_at <= now),
        and_(d.status == "sending", d.lease_until < now),
    )


def _interrupted(delivery_id: str, attempt: int, now: datetime) -> dict[str, Any]:
    # Stays 'interrupted' if the worker dies mid-send: every attempt is on record.
    return {
        "delivery_id": delivery_id,
        "attempt": attempt,
        "started_at": now,
        "finished_at": now,
        "outcome": "interrupted",
    }


# Inserts built once: a fresh construct costs a cache key per call.
_INSERT_DELIVERIES = DELIVERIES.insert()
_INSERT_ATTEMPTS = ATTEMPTS.insert()


async def insert_claimed(
    session: AsyncSession, rows: Sequence[dict[str, Any]], now: datetime
) -> None:
    """New jobs created already claimed (keys that cannot exist yet), their attempt 1 opened."""
    await session.execute(_INSERT_DELIVERIES, list(rows))
    await session.execute(_INSERT_ATTEMPTS, [_interrupted(r["id"], 1, now) for r in rows])


async def insert_new(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> list[bool]:
    """Insert jobs whose key is new; for each row, whether it was inserted."""
    return [await insert_many_ignore(session, DELIVERIES, [row]) == 1 for row in rows]


async def insert_many(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Insert jobs whose key is new; returns how many were inserted."""
    return await insert_many_ignore(session, DELIVERIES, rows)


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
    query = (
        select(d.id, d.alert_id, d.kind).where(_due(now)).order_by(d.next_attempt_at).limit(limit)
    )
    rows = (await session.execute(for_update(session, query, skip_locked=True))).all()
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
        # A contact warning has no alert row to lock; nothing acknowledges it.
        ids = [r.id for r in rows if r.alert_id in locked or r.kind == "contact_warning"]
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
            ATTEMPTS.insert(), [_interrupted(r["id"], r["attempts"], now) for r in out]
        )
    return out


# The columns `send_context` reads, each row's under its own prefix.
_LOAD = (
    select(
        *(DELIVERIES.c[c].label(f"d_{c}") for c in FROM_DELIVERY.values()),
        *(ALERTS.c[c].label(f"a_{c}") for c in FROM_ALERT.values()),
        *(CONTACTS.c[c].label(f"c_{c}") for c in FROM_CONTACT.values()),
        ENTRIES.c.label,
        LAWYERS.c.language,
    )
    .select_from(
        DELIVERIES.join(ALERTS, ALERTS.c.id == DELIVERIES.c.alert_id)
        .join(ENTRIES, ENTRIES.c.id == ALERTS.c.entry_id)
        .outerjoin(LAWYERS, LAWYERS.c.client_id == ALERTS.c.lawyer_id)
        .outerjoin(CONTACTS, CONTACTS.c.id == DELIVERIES.c.contact_id)
    )
    .where(DELIVERIES.c.id == bindparam("delivery_id"))
)


async def load(session: AsyncSession, delivery_id: str) -> SendContext | None:
    """The delivery with its contact, alert and entry label (read only, no lock)."""
    row = (await session.execute(_LOAD, {"delivery_id": delivery_id})).mappings().first()
    if row is None:
        return await health.load(session, delivery_id)  # a contact warning (no alert row)
    d, a, c = ({k[2:]: v for k, v in row.items() if k.startswith(p)} for p in ("d_", "a_", "c_"))
    # The contact's role is never NULL in its table: NULL here means the contact was removed.
    contact = c if c["role"] is not None else None
    return send_context(d, a, contact, row["label"], row["language"])


async def in_flight(session: AsyncSession, alert_id: str, now: datetime) -> int:
    """How many pages of the alert are on the wire now."""
    d = DELIVERIES.c
    result = await session.execute(
        select(func.count())
        .select_from(DELIVERIES)
        .where(d.alert_id == alert_id, d.kind.in_(PAGE_KINDS), d.in_flight_until > now)
    )
    return int(result.scalar_one())


# The outcome columns of an attempt, all of them set by `finish`.
_OUTCOME = ("started_at", "finished_at", "outcome", "http_status", "error", "retry_after_s")
_FINISH_ATTEMPT = (
    update(ATTEMPTS)
    .where(
        ATTEMPTS.c.delivery_id == bindparam("k_id"), ATTEMPTS.c.attempt == bindparam("k_attempt")
    )
    .values({c: bindparam(f"v_{c}") for c in _OUTCOME})
)
# One statement per set of delivery columns `finish` is given (a handful), built once: building
# an UPDATE (and its cache key) costs more than running it.
_FINISH: dict[frozenset[str], Any] = {}


def _finish_statement(columns: frozenset[str]) -> Any:
    statement = _FINISH.get(columns)
    if statement is None:
        d = DELIVERIES.c
        statement = _FINISH[columns] = (
            update(DELIVERIES)
            .where(
                d.id == bindparam("k_id"),
                d.status == "sending",
                d.attempts == bindparam("k_attempt"),
            )
            .values(
                lease_until=None,
                in_flight_until=None,
                **{c: bindparam(f"v_{c}") for c in sorted(columns)},
            )
            .returning(d.id)
        )
    return statement


async def finish(
    session: AsyncSession,
    delivery_id: str,
    attempt: int,
    delivery: dict[str, Any],
    outcome: dict[str, Any],
) -> bool:
    """Record an attempt's outcome; False if the job was cancelled or re-claimed meanwhile."""
    keys = {"k_id": delivery_id, "k_attempt": attempt}
    statement = _finish_statement(frozenset(delivery))
    result = await session.execute(statement, keys | {f"v_{c}": v for c, v in delivery.items()})
    await session.execute(_FINISH_ATTEMPT, keys | {f"v_{c}": outcome.get(c) for c in _OUTCOME})
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
