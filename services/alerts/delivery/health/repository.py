"""SQL of contact health: record an attempt, claim a warning, episodes, load a warning to send."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, and_, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.sql import insert_many_ignore
from services.alerts.alerts.domain import EVERY_DETAIL
from services.alerts.delivery.domain import FROM_CONTACT, FROM_DELIVERY, LAWYER_ROLES, SendContext
from services.alerts.delivery.health.domain import UNREACHABLE
from services.alerts.delivery.health.models import WARNINGS
from services.alerts.delivery.models import DELIVERIES
from services.alerts.delivery.profiles.models import CONTACTS
from services.alerts.watchlists.models import ENTRIES, LAWYERS

WARNING_KIND = "contact_warning"


_C = CONTACTS.c
# Built once (after every attempt): SQLAlchemy reuses their compiled form.
_SUCCEEDED = (
    update(CONTACTS)
    .where(_C.id == bindparam("k_id"))
    .values(last_success_at=bindparam("v_now"), consecutive_failures=0)
    .returning(*CONTACTS.c)
)
_FAILED = (
    update(CONTACTS)
    .where(_C.id == bindparam("k_id"))
    .values(
        last_failure_at=bindparam("v_now"),
        last_failure=bindparam("v_error"),
        consecutive_failures=_C.consecutive_failures + 1,
    )
    .returning(*CONTACTS.c)
)


async def record(
    session: AsyncSession, contact_id: str, error: str | None, now: datetime
) -> RowMapping | None:
    """Count one attempt's outcome on its contact (`error` None: delivered); the row after."""
    if error is None:
        result = await session.execute(_SUCCEEDED, {"k_id": contact_id, "v_now": now})
    else:
        # A reason code: the receiver's body is never kept.
        params = {"k_id": contact_id, "v_now": now, "v_error": error[:64]}
        result = await session.execute(_FAILED, params)
    return result.mappings().first()


async def claim_problem(
    session: AsyncSession, contact_id: str, warned: str | None, problem: str | None
) -> bool:
    """Move the contact's warned problem from `warned` to `problem`; False if another replica
    did it first (the condition and the write are one statement)."""
    c = CONTACTS.c
    same = c.warned_problem.is_(None) if warned is None else c.warned_problem == warned
    result = await session.execute(
        update(CONTACTS)
        .where(c.id == contact_id, same)
        .values(warned_problem=problem)
        .returning(c.id)
    )
    return result.first() is not None


async def watched_contacts(session: AsyncSession) -> list[RowMapping]:
    """Own contacts the periodic check looks at: with a key, a warning or failures."""
    c = CONTACTS.c
    query = select(CONTACTS).where(
        c.role.in_(LAWYER_ROLES),
        or_(
            c.key_expires_at.is_not(None),
            c.warned_problem.is_not(None),
            c.consecutive_failures > 0,
            c.disabled_at.is_not(None),
        ),
    )
    return list((await session.execute(query)).mappings())


async def has_entries(session: AsyncSession, lawyer_id: str) -> bool:
    """Whether the lawyer watches anyone."""
    e = ENTRIES.c
    query = select(e.id).where(e.lawyer_id == lawyer_id, e.removed_at.is_(None)).limit(1)
    return (await session.execute(query)).first() is not None


async def lawyers_to_check(session: AsyncSession) -> list[RowMapping]:
    """Every lawyer with entries or an open unreachable episode: (client_id, org_id)."""
    e, w = ENTRIES.c, WARNINGS.c
    watching = select(e.lawyer_id.label("client_id"), e.org_id).where(e.removed_at.is_(None))
    open_ = select(w.lawyer_id.label("client_id"), w.org_id).where(
        w.problem == UNREACHABLE, w.ended_at.is_(None)
    )
    rows = await session.execute(watching.union(open_))
    return list(rows.mappings())


async def open_episode(session: AsyncSession, lawyer_id: str) -> RowMapping | None:
    """The lawyer's open unreachable episode, if any."""
    w = WARNINGS.c
    query = select(WARNINGS).where(
        w.lawyer_id == lawyer_id, w.problem == UNREACHABLE, w.ended_at.is_(None)
    )
    return (await session.execute(query)).mappings().first()


async def episodes(session: AsyncSession, lawyer_id: str) -> int:
    """How many unreachable episodes the lawyer has had (the next one's number)."""
    w = WARNINGS.c
    query = select(func.count()).where(w.lawyer_id == lawyer_id, w.problem == UNREACHABLE)
    return int((await session.execute(query)).scalar_one())


async def end_episode(session: AsyncSession, lawyer_id: str, now: datetime) -> None:
    """Close the lawyer's unreachable episode (one of their contacts works again)."""
    w = WARNINGS.c
    await session.execute(
        update(WARNINGS)
        .where(w.lawyer_id == lawyer_id, w.problem == UNREACHABLE, w.ended_at.is_(None))
        .values(ended_at=now)
    )


async def insert_warning(session: AsyncSession, row: dict[str, Any]) -> bool:
    """Insert a warning whose key is new; False if this episode was warned of already."""
    return await insert_many_ignore(session, WARNINGS, [row]) == 1


async def is_warning(session: AsyncSession, ids: Sequence[str]) -> set[str]:
    """Which of these alert ids are warnings (their deliveries have no alert row)."""
    rows = await session.execute(select(WARNINGS.c.id).where(WARNINGS.c.id.in_(ids)))
    return {r.id for r in rows}


_LOAD = (
    select(
        *(DELIVERIES.c[c].label(f"d_{c}") for c in FROM_DELIVERY.values()),
        *(CONTACTS.c[c].label(f"c_{c}") for c in FROM_CONTACT.values()),
        WARNINGS.c.id.label("w_id"),
        WARNINGS.c.lawyer_id.label("w_lawyer_id"),
        WARNINGS.c.channel.label("w_channel"),
        WARNINGS.c.name.label("w_name"),
        WARNINGS.c.problem.label("w_problem"),
        LAWYERS.c.language,
    )
    .select_from(
        DELIVERIES.join(WARNINGS, WARNINGS.c.id == DELIVERIES.c.alert_id)
        .outerjoin(LAWYERS, LAWYERS.c.client_id == WARNINGS.c.lawyer_id)
        .outerjoin(CONTACTS, CONTACTS.c.id == DELIVERIES.c.contact_id)
    )
    .where(and_(DELIVERIES.c.id == bindparam("delivery_id"), DELIVERIES.c.kind == WARNING_KIND))
)


async def load(session: AsyncSession, delivery_id: str) -> SendContext | None:
    """A warning's delivery as a send context: the warning's facts stand in the alert's fields
    (`decision`: the contact's channel, `reason`: the problem, `label`: its name)."""
    row = (await session.execute(_LOAD, {"delivery_id": delivery_id})).mappings().first()
    if row is None:
        return None
    d: dict[str, Any] = {f: row[f"d_{c}"] for f, c in FROM_DELIVERY.items()}
    c: dict[str, Any] = {f: row[f"c_{f}"] for f in FROM_CONTACT}
    if c["role"] is None:
        c = {f: None for f in FROM_CONTACT}
    blank: dict[str, Any] = dict.fromkeys(
        ("priority", "agreed", "incident_type", "legal_basis", "country", "facility_kind",
         "occurred_at", "report_id"), "",
    )  # fmt: skip
    unreachable = row["w_problem"] == UNREACHABLE
    return SendContext(
        **d,
        **c,
        **blank,
        alert_id=row["w_id"],
        alert_status="open",
        lawyer_id=row["w_lawyer_id"],
        decision=row["w_lawyer_id"] if unreachable else row["w_channel"],
        reason=row["w_problem"],
        report_count=0,
        acked_by=None,
        acked_at=None,
        disclosed=EVERY_DETAIL,
        release=None,
        label=row["w_name"] or "",
        language=row["language"] or "en",
    )
