"""SQL helpers every alerts repository shares: dialect checks and `INSERT … ON CONFLICT`.

Statements built here are cached per dialect and table: SQLAlchemy then reuses their compiled
form, which halves its cost per call on the hot paths (matching, delivery).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

_IGNORING: dict[tuple[str, str], Insert] = {}


def is_postgres(session: AsyncSession) -> bool:
    """Row locks exist on PostgreSQL; SQLite has a single writer instead."""
    return session.get_bind().dialect.name == "postgresql"


def ignoring(session: AsyncSession, table: Table) -> Insert:
    """`INSERT … ON CONFLICT DO NOTHING` for this session's dialect."""
    insert = postgresql.insert if is_postgres(session) else sqlite.insert
    return insert(table).on_conflict_do_nothing()


def insert_ignoring(session: AsyncSession, table: Table) -> Insert:
    """`INSERT … ON CONFLICT DO NOTHING RETURNING key` for this dialect, built once."""
    key = (session.get_bind().dialect.name, table.name)
    stmt = _IGNORING.get(key)
    if stmt is None:
        pk = next(iter(table.primary_key.columns))
        stmt = _IGNORING[key] = ignoring(session, table).returning(pk)
    return stmt


async def insert_many_ignore(
    session: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]
) -> int:
    """Insert rows whose key is new; returns how many were inserted."""
    stmt, inserted = insert_ignoring(session, table), 0
    for row in rows:
        if (await session.execute(stmt, row)).first() is not None:
            inserted += 1
    return inserted
