"""Seizure SQL: the seizure rows, and the cuts a seizure makes in the other contexts' tables."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.clock import as_utc
from libs.common.sql import changed_one, for_update, seek
from services.sharing.access.domain import ClientStatus, KeyStatus, PartnerStatus
from services.sharing.access.models import CLIENT_KEYS, CLIENTS, PARTNERS
from services.sharing.seizure.domain import SeizureStatus, TargetKind
from services.sharing.seizure.models import SEIZURES
from services.sharing.vault.delivery.models import DELIVERY_KEYS
from services.sharing.vault.policy.models import REPORT_GRANTS


@dataclass(frozen=True, slots=True)
class SeizureRow:
    """A seizure as stored."""

    id: str
    target_kind: str
    target_id: str
    partner_id: str
    prior_status: str
    reason: str
    status: str
    taken: dict[str, list[str]]
    created_at: datetime
    created_by: str
    lifted_at: datetime | None
    lifted_by: str | None
    lift_approval_id: str | None

    @classmethod
    def of(cls, row: Row[Any]) -> SeizureRow:
        """From a `seizures` row."""
        return cls(
            row.id,
            row.target_kind,
            row.target_id,
            row.partner_id,
            row.prior_status,
            row.reason,
            row.status,
            json.loads(row.counts),
            as_utc(row.created_at),
            row.created_by,
            None if row.lifted_at is None else as_utc(row.lifted_at),
            row.lifted_by,
            row.lift_approval_id,
        )


async def insert(session: AsyncSession, values: dict[str, Any]) -> None:
    """Record a seizure (`counts` is the JSON of what it took)."""
    await session.execute(SEIZURES.insert().values(**values))


async def get(session: AsyncSession, seizure_id: str, *, lock: bool = False) -> SeizureRow | None:
    """One seizure, or None (locked for the transaction when `lock`)."""
    query = select(SEIZURES).where(SEIZURES.c.id == seizure_id)
    row = (await session.execute(for_update(session, query) if lock else query)).first()
    return None if row is None else SeizureRow.of(row)


async def listing(
    session: AsyncSession,
    status: str | None = None,
    after: tuple[datetime, str] | None = None,
    limit: int | None = None,
) -> list[SeizureRow]:
    """Seizures, newest first, after the (created_at, id) position `after`."""
    order = (SEIZURES.c.created_at, SEIZURES.c.id)
    query = seek(select(SEIZURES), order, after, descending=True)
    if status is not None:
        query = query.where(SEIZURES.c.status == status)
    return [SeizureRow.of(r) for r in await session.execute(query.limit(limit))]


async def active_on(session: AsyncSession, kind: TargetKind, target_id: str) -> bool:
    """Whether a seizure of this target still holds."""
    query = select(SEIZURES.c.id).where(
        SEIZURES.c.target_kind == kind,
        SEIZURES.c.target_id == target_id,
        SEIZURES.c.status == SeizureStatus.ACTIVE,
    )
    return (await session.execute(query.limit(1))).first() is not None


async def mark_lifted(
    session: AsyncSession, seizure_id: str, actor: str, approval_id: str | None, now: datetime
) -> bool:
    """Lift an active seizure; False if it is not active."""
    result = await session.execute(
        update(SEIZURES)
        .where(SEIZURES.c.id == seizure_id, SEIZURES.c.status == SeizureStatus.ACTIVE)
        .values(
            status=SeizureStatus.LIFTED,
            lifted_at=now,
            lifted_by=actor,
            lift_approval_id=approval_id,
        )
    )
    return changed_one(result)


# --- the cuts ------------------------------------------------------------------------------


async def client_ids(session: AsyncSession, partner_id: str) -> list[str]:
    """Every client of a partner, whatever its status."""
    query = select(CLIENTS.c.id).where(CLIENTS.c.partner_id == partner_id).order_by(CLIENTS.c.id)
    return [r.id for r in await session.execute(query)]


async def set_client_status(
    session: AsyncSession, client_id: str, old: ClientStatus | str, new: ClientStatus | str
) -> bool:
    """Move a client from `old` to `new`; False if it was not in `old`."""
    result = await session.execute(
        update(CLIENTS).where(CLIENTS.c.id == client_id, CLIENTS.c.status == old).values(status=new)
    )
    return changed_one(result)


async def set_partner_status(
    session: AsyncSession, partner_id: str, old: PartnerStatus | str, new: PartnerStatus | str
) -> bool:
    """Move a partner from `old` to `new`; False if it was not in `old`."""
    result = await session.execute(
        update(PARTNERS)
        .where(PARTNERS.c.id == partner_id, PARTNERS.c.status == old)
        .values(status=new)
    )
    return changed_one(result)


async def revoke_client_keys(session: AsyncSession, clients: list[str], now: datetime) -> list[str]:
    """Revoke every active or pending key of these clients; the kids revoked."""
    if not clients:
        return []
    live = [KeyStatus.ACTIVE, KeyStatus.PENDING]  # a pending key could still be confirmed
    active = (CLIENT_KEYS.c.client_id.in_(clients), CLIENT_KEYS.c.status.in_(live))
    kids = [r.kid for r in await session.execute(select(CLIENT_KEYS.c.kid).where(*active))]
    if kids:
        await session.execute(
            update(CLIENT_KEYS)
            .where(CLIENT_KEYS.c.kid.in_(kids))
            .values(status=KeyStatus.REVOKED, revoked_at=now)
        )
    return sorted(kids)


async def revoke_delivery_keys(
    session: AsyncSession, partner_id: str, created_by: str | None, now: datetime
) -> list[str]:
    """Stop sealing to a partner's delivery keys (only those one client registered, if given)."""
    where = [DELIVERY_KEYS.c.partner_id == partner_id, DELIVERY_KEYS.c.revoked_at.is_(None)]
    if created_by is not None:
        where.append(DELIVERY_KEYS.c.created_by == created_by)
    kids = [r.kid for r in await session.execute(select(DELIVERY_KEYS.c.kid).where(*where))]
    if kids:
        await session.execute(
            update(DELIVERY_KEYS)
            .where(DELIVERY_KEYS.c.partner_id == partner_id, DELIVERY_KEYS.c.kid.in_(kids))
            .values(revoked_at=now)
        )
    return sorted(kids)


async def withdraw_grants(session: AsyncSession, partner_id: str) -> list[str]:
    """Delete every per-report grant to the partner; the grant ids withdrawn."""
    where = REPORT_GRANTS.c.partner_id == partner_id
    ids = [r.id for r in await session.execute(select(REPORT_GRANTS.c.id).where(where))]
    if ids:
        await session.execute(delete(REPORT_GRANTS).where(where))
    return sorted(ids)
