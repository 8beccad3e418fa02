"""SQL of sealed delivery: the HPKE public keys partners register."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.sql import seek
from services.sharing.vault.delivery.models import DELIVERY_KEYS


async def insert_delivery_key(session: AsyncSession, values: dict[str, Any]) -> None:
    """Register a partner's public delivery key."""
    await session.execute(DELIVERY_KEYS.insert().values(**values))


async def delivery_keys(
    session: AsyncSession,
    partner_id: str,
    *,
    active_only: bool = True,
    after: tuple[datetime, str] | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """A partner's delivery keys, oldest first, after the (created_at, kid) position `after`."""
    query = select(DELIVERY_KEYS).where(DELIVERY_KEYS.c.partner_id == partner_id)
    if active_only:
        query = query.where(DELIVERY_KEYS.c.revoked_at.is_(None))
    query = seek(query, (DELIVERY_KEYS.c.created_at, DELIVERY_KEYS.c.kid), after)
    result = await session.execute(query.limit(limit))
    return [dict(r._mapping) for r in result]


async def delivery_key(session: AsyncSession, partner_id: str, kid: str) -> dict[str, Any] | None:
    """One active key of this partner; another partner's key is simply not found."""
    result = await session.execute(
        select(DELIVERY_KEYS).where(
            DELIVERY_KEYS.c.kid == kid,
            DELIVERY_KEYS.c.partner_id == partner_id,
            DELIVERY_KEYS.c.revoked_at.is_(None),
        )
    )
    row = result.first()
    return None if row is None else dict(row._mapping)


async def revoke_delivery_key(
    session: AsyncSession, partner_id: str, kid: str, now: datetime
) -> bool:
    """Stop sealing to a key; True if it was active."""
    result = await session.execute(
        update(DELIVERY_KEYS)
        .where(
            DELIVERY_KEYS.c.kid == kid,
            DELIVERY_KEYS.c.partner_id == partner_id,
            DELIVERY_KEYS.c.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return bool(getattr(result, "rowcount", 0) == 1)
