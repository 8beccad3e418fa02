"""The vault's key SQL: KEK usage, the rewrap job's batches, the KEK guard, sealing-key use."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.clock import as_utc
from libs.common.sql import advisory_lock, for_update
from services.sharing.vault.models import DATA_KEYS, REPORTS
from services.sharing.vault.repository import KEK_LOCK


async def kek_guard(session: AsyncSession, *, exclusive: bool = False) -> None:
    """Serialise KEK retirement against transactions that write wrapped keys (PostgreSQL)."""
    await advisory_lock(session, KEK_LOCK, shared=not exclusive)


async def kek_usage(session: AsyncSession) -> dict[int, int]:
    """How many data keys are wrapped under each KEK version."""
    result = await session.execute(
        select(DATA_KEYS.c.kek_version, func.count()).group_by(DATA_KEYS.c.kek_version)
    )
    return {int(v): int(n) for v, n in result.all()}


async def lock_for_rewrap(
    session: AsyncSession, versions: Iterable[int], limit: int, *, after: str = ""
) -> list[Row[Any]]:
    """Up to `limit` data keys under `versions` past `after`, locked; other replicas skip them."""
    t = DATA_KEYS.c
    query = (
        select(t.data_key_id, t.report_id, t.kek_version, t.wrapped)
        .where(t.kek_version.in_(sorted(versions)), t.data_key_id > after)
        .order_by(t.data_key_id)
        .limit(limit)
    )
    query = for_update(session, query, skip_locked=True)
    return list((await session.execute(query)).all())


async def store_rewrapped(
    session: AsyncSession, updates: list[dict[str, Any]], now: datetime
) -> None:
    """Write new wraps; a row erased or rewrapped meanwhile is left alone (old version guard)."""
    if not updates:
        return
    await session.execute(
        update(DATA_KEYS)
        .where(
            DATA_KEYS.c.data_key_id == bindparam("k"),
            DATA_KEYS.c.kek_version == bindparam("old"),
        )
        .values(wrapped=bindparam("w"), kek_version=bindparam("new"), rewrapped_at=now),
        updates,
    )


async def sealing_key_last_seen(session: AsyncSession) -> dict[str, datetime]:
    """When a report sealed under each sharing key id (hex) last arrived."""
    result = await session.execute(
        select(REPORTS.c.sealed_kid, func.max(REPORTS.c.received_at)).group_by(REPORTS.c.sealed_kid)
    )
    return {kid: as_utc(at) for kid, at in result.all()}
