"""Approval SQL: store a request, claim it once, record its decision and outcome."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.clock import as_utc
from libs.common.sql import changed_one, seek
from services.sharing.approvals.domain import ApprovalAction, ApprovalStatus, Requester
from services.sharing.approvals.models import APPROVALS

PENDING = ApprovalStatus.PENDING


@dataclass(frozen=True, slots=True)
class ApprovalRow:
    """An approval as stored."""

    id: str
    action: str
    target: str
    request: dict[str, Any]
    status: str
    requester: Requester
    requested_at: datetime
    expires_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    outcome: dict[str, Any] | None

    @classmethod
    def of(cls, row: Row[Any]) -> ApprovalRow:
        """From an `approvals` row."""
        return cls(
            row.id,
            row.action,
            row.target,
            json.loads(row.request),
            row.status,
            Requester.stored(row.requested_by, row.requested_org, json.loads(row.requester)),
            as_utc(row.requested_at),
            as_utc(row.expires_at),
            row.decided_by,
            None if row.decided_at is None else as_utc(row.decided_at),
            None if row.outcome is None else json.loads(row.outcome),
        )


async def insert(session: AsyncSession, values: dict[str, Any]) -> None:
    """Store a pending request."""
    await session.execute(APPROVALS.insert().values(**values))


async def get(session: AsyncSession, approval_id: str) -> ApprovalRow | None:
    """One approval, or None."""
    row = (await session.execute(select(APPROVALS).where(APPROVALS.c.id == approval_id))).first()
    return None if row is None else ApprovalRow.of(row)


async def listing(
    session: AsyncSession, status: str | None, after: tuple[datetime, str] | None, limit: int
) -> list[ApprovalRow]:
    """Approvals, newest first, after the (requested_at, id) position `after`."""
    order = (APPROVALS.c.requested_at, APPROVALS.c.id)
    query = seek(select(APPROVALS), order, after, descending=True)
    if status is not None:
        query = query.where(APPROVALS.c.status == status)
    return [ApprovalRow.of(r) for r in await session.execute(query.limit(limit))]


async def expire_due(session: AsyncSession, now: datetime) -> int:
    """Mark pending approvals past their time as expired; how many."""
    result = await session.execute(
        update(APPROVALS)
        .where(APPROVALS.c.status == PENDING, APPROVALS.c.expires_at <= now)
        .values(status=ApprovalStatus.EXPIRED)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def decide(
    session: AsyncSession, approval_id: str, status: ApprovalStatus, decider: str, now: datetime
) -> bool:
    """Move a live pending approval to `status`; False if another decision (or time) came first.

    This one conditional UPDATE is what makes an approved action run once: of two concurrent
    approvals, exactly one changes the row.
    """
    result = await session.execute(
        update(APPROVALS)
        .where(
            APPROVALS.c.id == approval_id,
            APPROVALS.c.status == PENDING,
            APPROVALS.c.expires_at > now,
        )
        .values(status=status, decided_by=decider, decided_at=now)
    )
    return changed_one(result)


async def finish(
    session: AsyncSession, approval_id: str, status: ApprovalStatus, outcome: dict[str, Any]
) -> None:
    """Record how a running approval's action ended."""
    await session.execute(
        update(APPROVALS)
        .where(APPROVALS.c.id == approval_id, APPROVALS.c.status == ApprovalStatus.RUNNING)
        .values(status=status, outcome=json.dumps(outcome, sort_keys=True, default=str))
    )


async def cancel_for(
    session: AsyncSession, *, client_ids: list[str], partner_id: str | None
) -> list[str]:
    """Cancel pending requests made by these clients (or partner), or keying these clients."""
    asked = [APPROVALS.c.requested_by.in_(client_ids)] if client_ids else []
    if partner_id is not None:
        asked.append(APPROVALS.c.requested_org == partner_id)
    if client_ids:
        asked.append(
            (APPROVALS.c.action == ApprovalAction.KEY_REGISTRATION)
            & APPROVALS.c.target.in_(client_ids)
        )
    if not asked:
        return []
    where = (APPROVALS.c.status == PENDING, or_(*asked))
    ids = [r.id for r in await session.execute(select(APPROVALS.c.id).where(*where))]
    if ids:
        await session.execute(
            update(APPROVALS)
            .where(APPROVALS.c.id.in_(ids), APPROVALS.c.status == PENDING)
            .values(status=ApprovalStatus.CANCELLED)
        )
    return sorted(ids)
