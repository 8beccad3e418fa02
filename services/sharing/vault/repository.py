"""The vault's report SQL (SQLAlchemy Core): store, load, list by policy, erase, read log."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, and_, case, delete, func, literal, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from libs.common.sql import advisory_lock, lock_key
from services.sharing.access.models import PARTNERS
from services.sharing.vault.domain import Search, to_us
from services.sharing.vault.models import DATA_KEYS, FIELDS, READS, REPORTS
from services.sharing.vault.policy.domain import Filter

# One advisory-lock key for "a data key is being written under some KEK version": stores hold it
# shared, a KEK retire holds it exclusively (PostgreSQL; on SQLite the write lock does this).
KEK_LOCK = lock_key("lifeline.sharing.kek")
# Held by every transaction that stamps `updated_us`, so stamps follow commit order.
_SYNC_LOCK = lock_key("lifeline.sharing.sync")
# Columns every read needs; field ciphertexts and wrapped keys are loaded separately.
_ROW_COLUMNS = [c for c in REPORTS.c if c.name not in ("event_id",)]


# --- store ---------------------------------------------------------------------------------


async def stored_as(
    session: AsyncSession, report_id: str, partner_id: str, client_report_id: str
) -> str | None:
    """Which stored report a failed insert collided with: `same`, `other` (client id), or None."""
    row = await session.execute(
        select(REPORTS.c.report_id).where(
            or_(
                REPORTS.c.report_id == report_id,
                and_(
                    REPORTS.c.partner_id == partner_id,
                    REPORTS.c.client_report_id == client_report_id,
                ),
            )
        )
    )
    found = [r.report_id for r in row]
    if report_id in found:
        return "same"
    return "other" if found else None


# Built once: a statement built per call is compiled-cache-keyed anew each time (hot path).
_LATEST_STAMP = select(func.coalesce(func.max(REPORTS.c.updated_us), 0))
_INSERT_REPORT, _INSERT_KEY, _INSERT_FIELD = REPORTS.insert(), DATA_KEYS.insert(), FIELDS.insert()


@dataclass(frozen=True)
class NewReport:
    """One report to insert: its row, the wrapped data key and the field ciphertexts."""

    row: Mapping[str, Any]
    wrapped: bytes
    kek_version: int
    blobs: Mapping[str, bytes]


async def insert_reports(
    session: AsyncSession, reports: Sequence[NewReport], now: datetime
) -> None:
    """Report rows, wrapped data keys and field ciphertexts: three statements for any number.

    Stamps are handed out as `next_stamp` would, one after the other (the caller holds the
    sync lock, see `begin_report_write`)."""
    latest = (await session.execute(_LATEST_STAMP)).scalar_one()
    first = max(int(latest) + 1, to_us(now))
    await session.execute(
        _INSERT_REPORT, [{**r.row, "updated_us": first + i} for i, r in enumerate(reports)]
    )
    keys = [
        {
            "data_key_id": r.row["data_key_id"],
            "report_id": r.row["report_id"],
            "kek_version": r.kek_version,
            "wrapped": r.wrapped,
            "created_at": now,
        }
        for r in reports
    ]
    await session.execute(_INSERT_KEY, keys)
    fields = [
        {"report_id": r.row["report_id"], "field": f, "ciphertext": c}
        for r in reports
        for f, c in r.blobs.items()
    ]
    await session.execute(_INSERT_FIELD, fields)


# --- read ----------------------------------------------------------------------------------


async def follow_ups_of(session: AsyncSession, report_id: str, partner_id: str) -> list[str]:
    """The ids of the partner's live reports that follow this one up, oldest first."""
    r = REPORTS.c
    query = select(r.report_id).where(
        r.follows == report_id, r.partner_id == partner_id, r.erased_at.is_(None)
    )
    return list((await session.execute(query.order_by(r.received_at))).scalars())


# The row with its wrapped data key (None once erased): one round trip for a read.
_WITH_KEY = REPORTS.outerjoin(DATA_KEYS, DATA_KEYS.c.data_key_id == REPORTS.c.data_key_id)
_READ_COLUMNS = [*_ROW_COLUMNS, DATA_KEYS.c.wrapped]


async def get_report(session: AsyncSession, report_id: str) -> Row[Any] | None:
    """One report row (clear columns and `wrapped`, the wrapped data key or None)."""
    query = select(*_READ_COLUMNS).select_from(_WITH_KEY).where(REPORTS.c.report_id == report_id)
    return (await session.execute(query)).first()


async def report_to_read(session: AsyncSession, report_id: str) -> Row[Any] | None:
    """`get_report` plus `partner_contact`, the reporting partner's lawyer line (one query)."""
    contact = (
        select(PARTNERS.c.lawyer_contact)
        .where(PARTNERS.c.id == REPORTS.c.partner_id)
        .scalar_subquery()
        .label("partner_contact")
    )
    query = (
        select(*[*_READ_COLUMNS, contact])
        .select_from(_WITH_KEY)
        .where(REPORTS.c.report_id == report_id)
    )
    return (await session.execute(query)).first()


async def field_blobs(
    session: AsyncSession, report_ids: Iterable[str], fields: Iterable[str]
) -> dict[str, dict[str, bytes]]:
    """Field ciphertexts by report id, only for the fields asked for."""
    ids, names = sorted(set(report_ids)), sorted(set(fields))
    out: dict[str, dict[str, bytes]] = {r: {} for r in ids}
    if not ids or not names:
        return out
    result = await session.execute(
        select(FIELDS.c.report_id, FIELDS.c.field, FIELDS.c.ciphertext).where(
            FIELDS.c.report_id.in_(ids), FIELDS.c.field.in_(names)
        )
    )
    for r in result:
        out[r.report_id][r.field] = bytes(r.ciphertext)
    return out


def _values(items: Iterable[object]) -> list[str]:
    # Plain strings: a driver may adapt an Enum member by its name rather than its value.
    return sorted(str(v) for v in items)


def visible_clause(flt: Filter) -> ColumnElement[bool]:
    """`policy.Filter` as SQL: own reports, granted ids, or any grant clause (never RED)."""
    t = REPORTS.c
    parts: list[ColumnElement[bool]] = [t.partner_id == flt.own_partner]
    if flt.report_ids:
        parts.append(t.report_id.in_(sorted(flt.report_ids)))
    for clause in flt.clauses:
        conds: list[ColumnElement[bool]] = [t.tlp.in_(_values(clause.tlps))]
        for column, allowed in (
            (t.partner_id, clause.sources),
            (t.incident_type, clause.incident_types),
            (t.country, clause.countries),
            (t.legal_basis, clause.legal_bases),
        ):
            if allowed is not None:
                conds.append(column.in_(_values(allowed)))
        parts.append(and_(*conds))
    return or_(*parts)


async def list_candidates(
    session: AsyncSession,
    flt: Filter,
    search: Search,
    after: tuple[int, str] | None,
    limit: int,
) -> list[Row[Any]]:
    """Rows the filter pre-selects, in (updated, id) order after the cursor position."""
    t = REPORTS.c
    where: list[ColumnElement[bool]] = [visible_clause(flt)]
    if search.country is not None:
        where.append(t.country == search.country)
    if search.incident_type is not None:
        where.append(t.incident_type == search.incident_type)
    if search.legal_basis is not None:
        where.append(t.legal_basis == search.legal_basis)
    if search.occurred_from is not None:
        where.append(t.occurred_on >= search.occurred_from)
    if search.occurred_to is not None:
        where.append(t.occurred_on <= search.occurred_to)
    if after is not None:
        us, rid = after
        where.append(or_(t.updated_us > us, and_(t.updated_us == us, t.report_id > rid)))
    query = (
        select(*_READ_COLUMNS)
        .select_from(_WITH_KEY)
        .where(*where)
        .order_by(t.updated_us, t.report_id)
        .limit(limit)
    )
    return list((await session.execute(query)).all())


async def begin_report_write(session: AsyncSession, *, wraps_key: bool = False) -> None:
    """Take the locks a transaction that stamps `updated_us` needs, before anything else.

    Stamps must follow commit order, so a reader's cursor can never pass a change that commits
    later: the sync lock is held to the end of the transaction (PostgreSQL: an advisory lock;
    SQLite: the write lock every transaction holds from BEGIN). A transaction that writes a
    wrapped data key also holds the KEK guard shared (`keys.repository.kek_guard`).
    """
    if wraps_key:
        await advisory_lock(session, KEK_LOCK, shared=True)
    await advisory_lock(session, _SYNC_LOCK)


def next_stamp(now: datetime) -> ColumnElement[int]:
    """`updated_us` for a row written now: above every committed stamp, even from a slow clock."""
    latest = select(func.coalesce(func.max(REPORTS.c.updated_us), 0) + 1).scalar_subquery()
    now_us = literal(to_us(now), BigInteger())
    return case((latest > now_us, latest), else_=now_us)


async def touch(session: AsyncSession, report_id: str, now: datetime) -> None:
    """Move a report up the sync order (its visibility changed, e.g. a new grant)."""
    await session.execute(
        update(REPORTS).where(REPORTS.c.report_id == report_id).values(updated_us=next_stamp(now))
    )


# --- erase ---------------------------------------------------------------------------------


async def erase(session: AsyncSession, report_id: str, actor: str, now: datetime) -> bool:
    """Crypto-shred: mark the tombstone, delete every wrapped copy of the key and every field.

    False if the report was already erased (or does not exist).
    """
    await begin_report_write(session)
    marked = await session.execute(
        update(REPORTS)
        .where(REPORTS.c.report_id == report_id, REPORTS.c.erased_at.is_(None))
        .values(erased_at=now, erased_by=actor, updated_us=next_stamp(now))
    )
    if getattr(marked, "rowcount", 0) != 1:
        return False
    # SQLite overwrites the deleted rows with zeros (`secure_delete`, set on every connection
    # by `libs.common.db`); the WAL copy goes at the checkpoint that follows the commit.
    await session.execute(delete(DATA_KEYS).where(DATA_KEYS.c.report_id == report_id))
    await session.execute(delete(FIELDS).where(FIELDS.c.report_id == report_id))
    return True


# --- the read log --------------------------------------------------------------------------


async def log_reads(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """One row per report whose content was released."""
    if rows:
        await session.execute(READS.insert(), rows)


async def reads_of(
    session: AsyncSession, report_id: str, after: int, limit: int
) -> list[dict[str, Any]]:
    """Reads of one report, oldest first, after the read id `after`."""
    query = (
        select(READS)
        .where(READS.c.report_id == report_id, READS.c.id > after)
        .order_by(READS.c.id)
        .limit(limit)
    )
    return [dict(r._mapping) for r in await session.execute(query)]
