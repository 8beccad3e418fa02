"""The audit log's SQL: serialised hash-chained appends, paged reads."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.auth.audit import GENESIS_HASH, canonical_json, entry_hash
from libs.common.sql import advisory_lock, lock_key
from services.sharing.audit.models import AUDIT_LOG

# One advisory-lock key for the chain, derived from a fixed name so every replica agrees.
_CHAIN_LOCK = lock_key("lifeline.sharing.audit")
MAX_PAGE = 1000


def audit_time(now: datetime) -> str:
    """The exact text hashed and stored for a time: UTC, microseconds, `Z`."""
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def append(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    target: str,
    details: dict[str, Any],
    now: datetime,
) -> int:
    """Append one entry chained to the last one; returns its seq.

    Appends must be serialised or two would chain to the same predecessor. PostgreSQL: an
    advisory lock held to the end of the caller's transaction. SQLite: the write lock the
    caller's `db.transaction()` holds from BEGIN.
    """
    await advisory_lock(session, _CHAIN_LOCK)
    last = (
        await session.execute(
            select(AUDIT_LOG.c.seq, AUDIT_LOG.c.hash).order_by(AUDIT_LOG.c.seq.desc()).limit(1)
        )
    ).first()
    seq = 1 if last is None else int(last.seq) + 1
    prev = GENESIS_HASH if last is None else str(last.hash)
    at = audit_time(now)
    digest = entry_hash(
        prev, seq=seq, at=at, actor=actor, action=action, target=target, details=details
    )
    await session.execute(
        AUDIT_LOG.insert().values(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            target=target,
            details=canonical_json(details),
            prev_hash=prev,
            hash=digest,
        )
    )
    return seq


async def entries(
    session: AsyncSession, *, after: int = 0, limit: int = MAX_PAGE
) -> list[dict[str, Any]]:
    """Entries with seq > `after`, in order, as the API returns them (details as an object)."""
    query = (
        select(AUDIT_LOG)
        .where(AUDIT_LOG.c.seq > after)
        .order_by(AUDIT_LOG.c.seq)
        .limit(max(1, min(limit, MAX_PAGE)))
    )
    result = []
    for row in await session.execute(query):
        try:
            details: Any = json.loads(row.details)
        except ValueError:
            # Keep a mangled row visible as text: the chain check will point at it.
            details = row.details
        result.append(
            {
                "seq": int(row.seq),
                "at": row.at,
                "actor": row.actor,
                "action": row.action,
                "target": row.target,
                "details": details,
                "prev_hash": row.prev_hash,
                "hash": row.hash,
            }
        )
    return result


async def chain_hashes(session: AsyncSession) -> list[str]:
    """Every entry's stored chain hash in log order: the leaves of the checkpoint tree."""
    rows = await session.execute(select(AUDIT_LOG.c.hash).order_by(AUDIT_LOG.c.seq))
    return [str(h) for h in rows.scalars()]
