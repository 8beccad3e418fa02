"""SQL of the matching hot path (SQLAlchemy Core): token index lookup, grouping, alert rows.

Statements here are built once with bind parameters: SQLAlchemy then reuses their compiled
form, which halves its cost per call (building a statement costs more than running it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.crypto.encoding import b64u_decode
from libs.common.crypto.errors import InvalidKey
from libs.common.events import Envelope
from libs.common.identity.canonical import Kind
from libs.common.identity.tokenvalue import Token
from libs.common.inbox import inbox_row
from libs.common.sql import ignoring, insert_many_ignore
from services.alerts.alerts.models import ALERTS, ERASED, MATCHES
from services.alerts.models import INBOX, OUTBOX
from services.alerts.watchlists.models import ENTRIES, TOKENS


async def mark_seen(session: AsyncSession, events: Sequence[Envelope], now: datetime) -> None:
    """Record events that derive nothing as handled, in one statement (repeats are ignored)."""
    await session.execute(ignoring(session, INBOX), [inbox_row(e, now) for e in events])


_HITS = select(TOKENS.c.entry_id).where(TOKENS.c.value.in_(bindparam("values", expanding=True)))
# Value and organisation of every live entry holding one of the values: for a report that names
# nobody an index-only read that finds nothing; for one that hits, the organisations whose
# disclosure is asked before its match (no second read).
_HIT_ORGS = (
    select(TOKENS.c.value, ENTRIES.c.org_id)
    .select_from(TOKENS.join(ENTRIES, ENTRIES.c.id == TOKENS.c.entry_id))
    .where(TOKENS.c.value.in_(bindparam("values", expanding=True)), ENTRIES.c.removed_at.is_(None))
    .distinct()
)


async def hit_orgs(session: AsyncSession, values: Collection[str]) -> dict[str, set[str]]:
    """Of these token values, those some live watchlist entry holds → the entries' organisations."""
    if not values:
        return {}
    out: dict[str, set[str]] = defaultdict(set)
    for row in await session.execute(_HIT_ORGS, {"values": sorted(set(values))}):
        out[row.value].add(row.org_id)
    return dict(out)


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


@dataclass(frozen=True)
class Candidates:
    """Live entries a report's token values hit: rows, full token sets, the values held."""

    entries: dict[str, RowMapping]
    sets: dict[str, list[Token]]
    # Of the report's values, those each entry holds (what the report matched it on).
    held: dict[str, set[str]]


async def candidates(session: AsyncSession, values: Collection[str], report_id: str) -> Candidates:
    """Live entries holding any of these token values, with their full token sets.

    One indexed lookup whose cost follows the number of hits, never the watchlist's size; empty
    when the report was erased. Key versions are compared by the match rule, token by token.
    """
    if not values:
        return Candidates({}, {}, {})
    asked = set(values)
    params = {"values": sorted(asked), "report_id": report_id}
    entries: dict[str, RowMapping] = {}
    sets: dict[str, list[Token]] = defaultdict(list)
    held: dict[str, set[str]] = defaultdict(set)
    for row in (await session.execute(_CANDIDATES, params)).mappings():
        entries[row["entry_id"]] = row
        if row["value"] in asked:
            held[row["entry_id"]].add(row["value"])
        try:
            sets[row["entry_id"]].append(
                Token(Kind(row["kind"]), row["version"], b64u_decode(row["value"]))
            )
        except (ValueError, InvalidKey):
            continue
    return Candidates(entries, sets, held)


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


# Inserts built once: a fresh construct costs a cache key per call.
_INSERT_ALERT = ALERTS.insert()
_INSERT_OUTBOX = OUTBOX.insert()


async def insert_alert(session: AsyncSession, values: dict[str, Any]) -> None:
    """A new alert."""
    await session.execute(_INSERT_ALERT, values)


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


_FORGET = delete(OUTBOX).where(OUTBOX.c.event_id.in_(bindparam("event_ids", expanding=True)))


async def forget_outbox(session: AsyncSession, event_ids: Collection[str]) -> None:
    """Delete the outbox rows of events JetStream acknowledged (published after commit)."""
    if event_ids:
        await session.execute(_FORGET, {"event_ids": sorted(event_ids)})


async def insert_outbox(session: AsyncSession, row: dict[str, Any]) -> None:
    """An outbox row (`libs.common.outbox.outbox_row`), in the caller's transaction."""
    await session.execute(_INSERT_OUTBOX, row)
