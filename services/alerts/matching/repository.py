"""SQL of the matching hot path (SQLAlchemy Core): token index lookup, grouping, alert rows.

Statements here are built once with bind parameters: SQLAlchemy then reuses their compiled
form, which halves its cost per call (building a statement costs more than running it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.crypto.encoding import b64u_decode
from libs.common.crypto.errors import InvalidKey
from libs.common.events import Envelope
from libs.common.identity.canonical import Kind
from libs.common.identity.tokens import Token
from libs.common.inbox import inbox_row
from libs.common.sql import ignoring, insert_many_ignore
from services.alerts.alerts.models import ALERTS, ERASED, MATCHES
from services.alerts.models import INBOX
from services.alerts.watchlists.models import ENTRIES, TOKENS


async def mark_seen(session: AsyncSession, events: Sequence[Envelope], now: datetime) -> None:
    """Record events that derive nothing as handled, in one statement (repeats are ignored)."""
    await session.execute(ignoring(session, INBOX), [inbox_row(e, now) for e in events])


_HITS = select(TOKENS.c.entry_id).where(TOKENS.c.value.in_(bindparam("values", expanding=True)))
_HIT_VALUES = (
    select(TOKENS.c.value).where(TOKENS.c.value.in_(bindparam("values", expanding=True))).distinct()
)


async def hit_values(session: AsyncSession, values: Collection[str]) -> set[str]:
    """Which of these token values some watchlist entry holds (an index-only read)."""
    if not values:
        return set()
    result = await session.execute(_HIT_VALUES, {"values": sorted(set(values))})
    return set(result.scalars())


_ORGS = (
    select(ENTRIES.c.org_id)
    .where(ENTRIES.c.id.in_(_HITS), ENTRIES.c.removed_at.is_(None))
    .distinct()
)


async def orgs_holding(session: AsyncSession, values: Collection[str]) -> set[str]:
    """The organisations of live entries holding any of these token values."""
    if not values:
        return set()
    return set((await session.execute(_ORGS, {"values": sorted(set(values))})).scalars())


_CANDIDATES = (
    select(
        TOKENS.c.entry_id,
        TOKENS.c.kind,
        TOKENS.c.version,
        TOKENS.c.value,
        ENTRIES.c.lawyer_id,
        ENTRIES.c.org_id,
        ENTRIES.c.label,
        ENTRIES.c.incident_types,
        ENTRIES.c.legal_bases,
        ENTRIES.c.countries,
    )
    .select_from(TOKENS.join(ENTRIES, ENTRIES.c.id == TOKENS.c.entry_id))
    .where(
        TOKENS.c.entry_id.in_(_HITS),
        ENTRIES.c.removed_at.is_(None),
        ~select(ERASED.c.report_id).where(ERASED.c.report_id == bindparam("report_id")).exists(),
    )
)


async def candidates(
    session: AsyncSession, values: Collection[str], report_id: str
) -> tuple[dict[str, RowMapping], dict[str, list[Token]]]:
    """Live entries holding any of these token values, with their full token sets.

    One indexed lookup whose cost follows the number of hits, never the watchlist's size; empty
    when the report was erased. Key versions are compared by the match rule, token by token.
    """
    if not values:
        return {}, {}
    params = {"values": sorted(set(values)), "report_id": report_id}
    entries: dict[str, RowMapping] = {}
    sets: dict[str, list[Token]] = defaultdict(list)
    for row in (await session.execute(_CANDIDATES, params)).mappings():
        entries[row["entry_id"]] = row
        try:
            sets[row["entry_id"]].append(
                Token(Kind(row["kind"]), row["version"], b64u_decode(row["value"]))
            )
        except (ValueError, InvalidKey):
            continue
    return entries, sets


async def entry_values(
    session: AsyncSession, entry_ids: Collection[str], values: Collection[str]
) -> dict[str, set[str]]:
    """Of these token values, those each entry holds (what a report matched it on)."""
    if not entry_ids or not values:
        return {}
    query = select(TOKENS.c.entry_id, TOKENS.c.value).where(
        TOKENS.c.entry_id.in_(sorted(set(entry_ids))), TOKENS.c.value.in_(sorted(set(values)))
    )
    out: dict[str, set[str]] = defaultdict(set)
    for row in await session.execute(query):
        out[row.entry_id].add(row.value)
    return out


async def lock_live(session: AsyncSession, entry_ids: Collection[str]) -> set[str]:
    """Lock the entries (in id order) so replicas group one report at a time; the live ones."""
    query = (
        select(ENTRIES.c.id)
        .where(ENTRIES.c.id.in_(sorted(entry_ids)), ENTRIES.c.removed_at.is_(None))
        .order_by(ENTRIES.c.id)
        .with_for_update()
    )
    return {r.id for r in await session.execute(query)}


_OPEN_GROUP = (
    select(ALERTS.c.id, ALERTS.c.priority, ALERTS.c.decision, ALERTS.c.status)
    .where(
        ALERTS.c.entry_id == bindparam("entry_id"),
        ALERTS.c.incident_type == bindparam("incident_type"),
        ALERTS.c.country == bindparam("country"),
        # A resolved case is closed: a new report (released, then detained again) pages anew.
        ALERTS.c.status.not_in(("withdrawn", "resolved")),
        ALERTS.c.created_at >= bindparam("since"),
    )
    .order_by(ALERTS.c.created_at.desc())
    .limit(1)
)


async def open_group(
    session: AsyncSession, entry_id: str, incident_type: str, country: str, since: datetime
) -> RowMapping | None:
    """The newest live alert about the same entry, incident type and country since `since`."""
    params = {
        "entry_id": entry_id,
        "incident_type": incident_type,
        "country": country,
        "since": since,
    }
    return (await session.execute(_OPEN_GROUP, params)).mappings().first()


async def insert_alert(session: AsyncSession, values: dict[str, Any]) -> None:
    """A new alert."""
    await session.execute(ALERTS.insert(), values)


async def insert_match(session: AsyncSession, values: dict[str, Any]) -> bool:
    """Record a (report, entry) pair; False if it was recorded before."""
    return await insert_many_ignore(session, MATCHES, [values]) == 1


async def attach_report(
    session: AsyncSession, alert_id: str, values: dict[str, Any], now: datetime
) -> None:
    """A further report of the same case: count it and refresh the summary, no new page."""
    await session.execute(
        update(ALERTS)
        .where(ALERTS.c.id == alert_id)
        .values(report_count=ALERTS.c.report_count + 1, updated_at=now, **values)
    )
