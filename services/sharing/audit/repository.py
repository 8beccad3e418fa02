"""The audit log's SQL: serialised hash-chained appends, paged reads."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class NewEntry:
    """One entry to append: who did what to which target, with ids-only details."""

    actor: str
    action: str
    target: str
    details: dict[str, Any]


_INSERT = AUDIT_LOG.insert()


async def append(
    session: AsyncSession,
    *,
    actor: str,
    action: str,
    target: str,
    details: dict[str, Any],
    now: datetime,
) -> int:
    """Append one entry chained to the last one; returns its seq."""
    return (await append_many(session, [NewEntry(actor, action, target, details)], now))[-1]


async def append_many(session: AsyncSession, new: Sequence[NewEntry], now: datetime) -> list[int]:
    """Append entries in order, each chained to the one before; returns their seqs.

    One look-up of the chain head, the hashes chained here, one INSERT for all rows: a page of
    50 reads costs three statements, not a hundred. Appends must be serialised or two would chain
    to the same predecessor. PostgreSQL: an advisory lock held to the end of the caller's
    transaction. SQLite: the write lock the caller's `db.transaction()` holds from BEGIN.
    """
    if not new:
        return []
    await advisory_lock(session, _CHAIN_LOCK)
    last = (
        await session.execute(
            select(AUDIT_LOG.c.seq, AUDIT_LOG.c.hash).order_by(AUDIT_LOG.c.seq.desc()).limit(1)
        )
    ).first()
    seq = 0 if last is None else int(last.seq)
    prev = GENESIS_HASH if last is None else str(last.hash)
    at = audit_time(now)
    rows: list[dict[str, Any]] = []
    for entry in new:
        seq += 1
        digest = entry_hash(
            prev,
            seq=seq,
            at=at,
            actor=entry.actor,
            action=entry.action,
            target=entry.target,
            details=entry.details,
        )
        rows.append(
            {
                "seq": seq,
                "at": at,
                "actor": entry.actor,
                "action": entry.action,
                "target": entry.target,
                "details": canonical_json(entry.details),
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
    # One prepared INSERT run for every row (the driver's executemany: one call, and on
    # PostgreSQL one pipelined round trip). A multi-row VALUES would be compiled anew for
    # each page, since its statement grows with the rows.
    await session.execute(_INSERT, rows)
    return [int(r["seq"]) for r in rows]


@dataclass(frozen=True)
class Filter:
    """Which entries a page holds: an action by its beginning (`policy.`), an exact actor, a
    target by its beginning, a time range (inclusive)."""

    action: str | None = None
    actor: str | None = None
    target: str | None = None
    since: datetime | None = None
    until: datetime | None = None


EVERYTHING = Filter()


async def entries(
    session: AsyncSession,
    *,
    after: int = 0,
    limit: int = MAX_PAGE,
    before: int | None = None,
    where: Filter = EVERYTHING,
) -> list[dict[str, Any]]:
    """Entries with seq > `after`, in order, as the API returns them (details as an object);
    with `before`, those with seq < `before`, newest first."""
    col = AUDIT_LOG.c
    query = select(AUDIT_LOG).where(col.seq > after)
    if where.action:
        query = query.where(col.action.startswith(where.action, autoescape=True))
    if where.actor:
        query = query.where(col.actor == where.actor)
    if where.target:
        query = query.where(col.target.startswith(where.target, autoescape=True))
    # `at` is stored as fixed-width UTC text, so text order is time order.
    if where.since is not None:
        query = query.where(col.at >= audit_time(where.since))
    if where.until is not None:
        query = query.where(col.at <= audit_time(where.until))
    if before is not None:
        query = query.where(col.seq < before).order_by(col.seq.desc())
    else:
        query = query.order_by(col.seq)
    query = query.limit(max(1, min(limit, MAX_PAGE)))
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
