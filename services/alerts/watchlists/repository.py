"""SQL of lawyers and watchlists (entries and their token index)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.reports import IdentityToken
from libs.common.sql import insert_ignore
from services.alerts.watchlists.models import ENTRIES, LAWYERS, TOKENS

ENTRY_COLUMNS = (
    ENTRIES.c.id,
    ENTRIES.c.label,
    ENTRIES.c.incident_types,
    ENTRIES.c.legal_bases,
    ENTRIES.c.countries,
    ENTRIES.c.token_count,
    ENTRIES.c.created_at,
    ENTRIES.c.updated_at,
)


async def ensure_lawyer(session: AsyncSession, client_id: str, org_id: str, now: datetime) -> None:
    """Create the lawyer row on first use."""
    await insert_ignore(
        session,
        LAWYERS,
        {"client_id": client_id, "org_id": org_id, "created_at": now, "updated_at": now},
    )


async def set_language(session: AsyncSession, client_id: str, language: str, now: datetime) -> None:
    """Set the language the lawyer's emails and ack pages are written in."""
    await session.execute(
        update(LAWYERS)
        .where(LAWYERS.c.client_id == client_id)
        .values(language=language, updated_at=now)
    )


async def language(session: AsyncSession, client_id: str) -> str | None:
    """The lawyer's language (None before their first profile or entry)."""
    query = select(LAWYERS.c.language).where(LAWYERS.c.client_id == client_id)
    return (await session.execute(query)).scalar_one_or_none()


async def live_entry_by_label(
    session: AsyncSession, lawyer_id: str, label: str
) -> RowMapping | None:
    """The lawyer's live entry with this label."""
    query = select(*ENTRY_COLUMNS).where(
        ENTRIES.c.lawyer_id == lawyer_id, ENTRIES.c.label == label, ENTRIES.c.removed_at.is_(None)
    )
    return (await session.execute(query)).mappings().first()


async def live_entry(session: AsyncSession, lawyer_id: str, entry_id: str) -> RowMapping | None:
    """One of the lawyer's live entries (None for anyone else's)."""
    query = select(*ENTRY_COLUMNS).where(
        ENTRIES.c.id == entry_id, ENTRIES.c.lawyer_id == lawyer_id, ENTRIES.c.removed_at.is_(None)
    )
    return (await session.execute(query)).mappings().first()


async def token_texts(session: AsyncSession, entry_id: str) -> set[tuple[str, int, str]]:
    """(kind, version, value) of an entry's tokens."""
    rows = await session.execute(
        select(TOKENS.c.kind, TOKENS.c.version, TOKENS.c.value).where(TOKENS.c.entry_id == entry_id)
    )
    return {(r.kind, r.version, r.value) for r in rows}


async def insert_entry(session: AsyncSession, values: dict[str, Any]) -> None:
    """A new entry row."""
    await session.execute(ENTRIES.insert().values(**values))


async def set_tokens(session: AsyncSession, entry_id: str, tokens: Sequence[IdentityToken]) -> int:
    """Replace an entry's tokens in the index; returns how many distinct tokens it has."""
    await session.execute(delete(TOKENS).where(TOKENS.c.entry_id == entry_id))
    rows = {
        (t.kind, t.version, t.value): {
            "entry_id": entry_id,
            "kind": t.kind,
            "version": t.version,
            "value": t.value,
        }
        for t in tokens
    }
    if rows:
        await session.execute(TOKENS.insert(), list(rows.values()))
    return len(rows)


async def update_entry(session: AsyncSession, entry_id: str, values: dict[str, Any]) -> None:
    """Change an entry's rule or token count."""
    await session.execute(update(ENTRIES).where(ENTRIES.c.id == entry_id).values(**values))


async def list_entries(
    session: AsyncSession, lawyer_id: str, after: str | None, limit: int
) -> list[RowMapping]:
    """The lawyer's live entries ordered by id, after a cursor."""
    query = select(*ENTRY_COLUMNS).where(
        ENTRIES.c.lawyer_id == lawyer_id, ENTRIES.c.removed_at.is_(None)
    )
    if after:
        query = query.where(ENTRIES.c.id > after)
    rows = await session.execute(query.order_by(ENTRIES.c.id).limit(limit))
    return list(rows.mappings())


async def remove_entry(session: AsyncSession, lawyer_id: str, entry_id: str, now: datetime) -> bool:
    """Mark an entry removed and drop its tokens (it can never match again)."""
    result = await session.execute(
        update(ENTRIES)
        .where(
            ENTRIES.c.id == entry_id,
            ENTRIES.c.lawyer_id == lawyer_id,
            ENTRIES.c.removed_at.is_(None),
        )
        .values(removed_at=now, updated_at=now)
        .returning(ENTRIES.c.id)
    )
    if result.first() is None:
        return False
    await session.execute(delete(TOKENS).where(TOKENS.c.entry_id == entry_id))
    return True


async def live_counts(session: AsyncSession, lawyer_id: str, org_id: str) -> tuple[int, int]:
    """How many live entries the lawyer holds, and the lawyer's partner altogether."""
    live = ENTRIES.c.removed_at.is_(None)
    mine = select(func.count()).where(live, ENTRIES.c.lawyer_id == lawyer_id)
    theirs = select(func.count()).where(live, ENTRIES.c.org_id == org_id)
    return (
        int((await session.execute(mine)).scalar_one()),
        int((await session.execute(theirs)).scalar_one()),
    )
