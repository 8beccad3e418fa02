"""Where SQLite and PostgreSQL differ, in one place: ignoring inserts, row and advisory locks.

SQLite has one writer and no row locks: what PostgreSQL does with `FOR UPDATE` or an advisory
lock, SQLite gets from the write lock that every `db.transaction()` takes at BEGIN (see
`libs.common.db`). So the lock helpers here are no-ops on SQLite, by design, not by omission.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping, Sequence
from importlib import import_module
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Select, Table, literal_column, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from sqlalchemy.dialects.sqlite import Insert

S = TypeVar("S", bound=Select[Any])

# Prebuilt `INSERT … ON CONFLICT DO NOTHING RETURNING <key>` per (dialect, table): hot paths
# (the alerts inbox, the token index) run them thousands of times a second.
_IGNORING: dict[tuple[str, str], Any] = {}


def dialect(session: AsyncSession) -> str:
    """`postgresql` or `sqlite`: the backend this session talks to."""
    return session.get_bind().dialect.name


def is_postgres(session: AsyncSession) -> bool:
    """True on PostgreSQL (row and advisory locks exist); False on SQLite (one writer)."""
    return dialect(session) == "postgresql"


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a name."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


async def advisory_lock(session: AsyncSession, *keys: int, shared: bool = False) -> None:
    """Hold transaction-scoped advisory locks (PostgreSQL); SQLite's write lock already does."""
    if not keys or not is_postgres(session):
        return
    fn = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    calls = ", ".join(f"{fn}(:k{i})" for i in range(len(keys)))
    await session.execute(text(f"SELECT {calls}"), {f"k{i}": k for i, k in enumerate(keys)})


def for_update(
    session: AsyncSession, query: S, *, skip_locked: bool = False, read: bool = False
) -> S:
    """`FOR UPDATE` (or `FOR SHARE` with `read`) on PostgreSQL; unchanged on SQLite."""
    if not is_postgres(session):
        return query
    return query.with_for_update(skip_locked=skip_locked, read=read)


@functools.cache
def insert_of(name: str) -> Callable[[Table], Insert]:
    """The `insert` of dialect `name` (`postgresql` or `sqlite`), which has `on_conflict_do_…`."""
    # Imported when first asked for: `sqlalchemy.dialects.postgresql` loads the dialect of
    # every PostgreSQL driver (about 2 MB in each service), which a SQLite network never uses.
    insert: Callable[[Table], Insert] = import_module(f"sqlalchemy.dialects.{name}").insert
    return insert


def upserting(session: AsyncSession, table: Table) -> Insert:
    """`INSERT` into `table` in this session's dialect, to add an `on_conflict_do_…` clause to."""
    return insert_of(dialect(session))(table)


def ignoring(session: AsyncSession, table: Table) -> Insert:
    """`INSERT … ON CONFLICT DO NOTHING` into `table` for this session's dialect."""
    return upserting(session, table).on_conflict_do_nothing()


def ignoring_returning(session: AsyncSession, table: Table) -> Any:
    """`INSERT … ON CONFLICT DO NOTHING RETURNING 1`, built once per dialect and table."""
    key = (dialect(session), table.name)
    stmt = _IGNORING.get(key)
    if stmt is None:
        # RETURNING, not rowcount: psycopg (async) reports rowcount -1 for ON CONFLICT DO
        # NOTHING, which made every insert look like a duplicate on PostgreSQL.
        stmt = _IGNORING[key] = ignoring(session, table).returning(literal_column("1"))
    return stmt


async def insert_ignore(session: AsyncSession, table: Table, values: Mapping[str, Any]) -> bool:
    """Insert a row unless its key exists; True when this call inserted it."""
    result = await session.execute(ignoring_returning(session, table), dict(values))
    return result.first() is not None


async def insert_many_ignore(
    session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]
) -> int:
    """Insert the rows whose key is new; how many were inserted."""
    stmt, inserted = ignoring_returning(session, table), 0
    for row in rows:
        if (await session.execute(stmt, dict(row))).first() is not None:
            inserted += 1
    return inserted


def changed_one(result: object) -> bool:
    """Whether an UPDATE's result says it changed exactly one row."""
    return bool(getattr(result, "rowcount", 0) == 1)


def seek(
    query: S, columns: Sequence[Any], position: Sequence[Any] | None, *, descending: bool = False
) -> S:
    """Keyset paging: the rows past `position` in the order of `columns` (a row-value compare,
    which SQLite and PostgreSQL both have), ordered by them."""
    if position is not None:
        key = tuple_(*columns) if len(columns) > 1 else columns[0]
        at = tuple_(*position) if len(columns) > 1 else position[0]
        query = query.where(key < at if descending else key > at)
    return query.order_by(*(c.desc() if descending else c.asc() for c in columns))
