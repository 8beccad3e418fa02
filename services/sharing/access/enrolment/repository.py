"""Enrolment SQL (SQLAlchemy Core): codes by hash, spending one exactly once, cancelling."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.clock import as_utc
from libs.common.sql import changed_one, seek
from services.sharing.access.domain import KeyStatus
from services.sharing.access.enrolment.domain import EnrolmentStatus
from services.sharing.access.enrolment.models import ENROLMENTS
from services.sharing.access.models import CLIENT_KEYS


@dataclass(frozen=True, slots=True)
class EnrolmentRow:
    """An enrolment as stored (without its code hash)."""

    id: str
    client_id: str
    status: str
    created_at: datetime
    created_by: str
    expires_at: datetime
    ended_at: datetime | None
    kid: str | None

    @classmethod
    def of(cls, row: Row[Any]) -> EnrolmentRow:
        """From an `enrolments` row."""
        return cls(
            row.id,
            row.client_id,
            row.status,
            as_utc(row.created_at),
            row.created_by,
            as_utc(row.expires_at),
            None if row.ended_at is None else as_utc(row.ended_at),
            row.kid,
        )

    def status_at(self, now: datetime) -> str:
        """`expired` for an open code past its time, else the stored status."""
        if self.status == EnrolmentStatus.OPEN and self.expires_at <= now:
            return "expired"
        return self.status


async def insert(session: AsyncSession, values: dict[str, Any]) -> None:
    """Add an open enrolment."""
    await session.execute(ENROLMENTS.insert().values(**values))


async def get(session: AsyncSession, enrolment_id: str) -> EnrolmentRow | None:
    """One enrolment, or None."""
    query = select(ENROLMENTS).where(ENROLMENTS.c.id == enrolment_id)
    row = (await session.execute(query)).first()
    return None if row is None else EnrolmentRow.of(row)


async def listing(
    session: AsyncSession,
    client_id: str,
    after: tuple[datetime, str] | None = None,
    limit: int | None = None,
) -> list[EnrolmentRow]:
    """A client's enrolments, newest first, after the (created_at, id) position `after`."""
    query = select(ENROLMENTS).where(ENROLMENTS.c.client_id == client_id)
    query = seek(query, (ENROLMENTS.c.created_at, ENROLMENTS.c.id), after, descending=True)
    return [EnrolmentRow.of(r) for r in await session.execute(query.limit(limit))]


async def spend(session: AsyncSession, hashed: str, now: datetime) -> EnrolmentRow | None:
    """Mark the open, unexpired code with this hash used; None if there is none."""
    # One conditional update: of two concurrent uses of one code exactly one matches.
    result = await session.execute(
        update(ENROLMENTS)
        .where(
            ENROLMENTS.c.code_hash == hashed,
            ENROLMENTS.c.status == EnrolmentStatus.OPEN,
            ENROLMENTS.c.expires_at > now,
        )
        .values(status=EnrolmentStatus.USED, ended_at=now)
    )
    if not changed_one(result):
        return None
    row = (await session.execute(select(ENROLMENTS).where(ENROLMENTS.c.code_hash == hashed))).one()
    return EnrolmentRow.of(row)


async def record_kid(session: AsyncSession, enrolment_id: str, kid: str) -> None:
    """Note which key a used code enrolled."""
    await session.execute(update(ENROLMENTS).where(ENROLMENTS.c.id == enrolment_id).values(kid=kid))


async def cancel(session: AsyncSession, enrolment_id: str, now: datetime) -> bool:
    """Cancel an open code; False if it is not open (or unknown)."""
    result = await session.execute(
        update(ENROLMENTS)
        .where(ENROLMENTS.c.id == enrolment_id, ENROLMENTS.c.status == EnrolmentStatus.OPEN)
        .values(status=EnrolmentStatus.CANCELLED, ended_at=now)
    )
    return changed_one(result)


async def cancel_for_clients(session: AsyncSession, clients: list[str], now: datetime) -> list[str]:
    """Cancel every open code of these clients (a seizure); the ids cancelled."""
    if not clients:
        return []
    where = (ENROLMENTS.c.client_id.in_(clients), ENROLMENTS.c.status == EnrolmentStatus.OPEN)
    ids = [r.id for r in await session.execute(select(ENROLMENTS.c.id).where(*where))]
    if ids:
        await session.execute(
            update(ENROLMENTS)
            .where(ENROLMENTS.c.id.in_(ids))
            .values(status=EnrolmentStatus.CANCELLED, ended_at=now)
        )
    return sorted(ids)


async def activate_key(session: AsyncSession, kid: str) -> bool:
    """Make a pending key active; False if it is not pending (confirmed, revoked, unknown)."""
    result = await session.execute(
        update(CLIENT_KEYS)
        .where(CLIENT_KEYS.c.kid == kid, CLIENT_KEYS.c.status == KeyStatus.PENDING)
        .values(status=KeyStatus.ACTIVE)
    )
    return changed_one(result)
