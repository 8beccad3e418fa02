"""SQL of contacts (lawyers' channels, backups, duty contacts) and organisations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, bindparam, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.alerts.alerts.domain import EscalationPolicy
from services.alerts.delivery.profiles.models import CONTACTS, ORGS
from services.alerts.watchlists.models import LAWYERS

OWN_ROLES = ("primary", "secondary", "backup")  # a lawyer's own contacts (not the duty desk)


async def lawyer_contacts(session: AsyncSession, lawyer_id: str) -> list[RowMapping]:
    """The lawyer's own channels and backup contacts, in a stable order."""
    rows = await session.execute(
        select(CONTACTS)
        .where(CONTACTS.c.lawyer_id == lawyer_id, CONTACTS.c.role.in_(OWN_ROLES))
        .order_by(CONTACTS.c.role, CONTACTS.c.position)
    )
    return list(rows.mappings())


_PAGING_VIEW = (
    select(
        CONTACTS,
        ORGS.c.escalate_after_min,
        ORGS.c.duty_after_min,
        ORGS.c.repeat_every_min,
        ORGS.c.max_repeats,
        LAWYERS.c.language,
    )
    .select_from(
        CONTACTS.outerjoin(ORGS, ORGS.c.org_id == bindparam("org_id")).outerjoin(
            LAWYERS, LAWYERS.c.client_id == CONTACTS.c.lawyer_id
        )
    )
    .where(CONTACTS.c.lawyer_id == bindparam("lawyer_id"), CONTACTS.c.role.in_(OWN_ROLES))
    .order_by(CONTACTS.c.role, CONTACTS.c.position)
)


async def paging_view(
    session: AsyncSession, lawyer_id: str, org_id: str
) -> tuple[list[RowMapping], EscalationPolicy]:
    """The lawyer's contacts (each with the lawyer's `language`) and their organisation's
    policy, in one query (hot path)."""
    params = {"lawyer_id": lawyer_id, "org_id": org_id}
    rows = list((await session.execute(_PAGING_VIEW, params)).mappings())
    if not rows:  # nobody of the lawyer's own: the duty contacts may still be escalated to
        return rows, await policy(session, org_id)
    first = rows[0]
    if first["escalate_after_min"] is None:
        return rows, EscalationPolicy()
    return rows, EscalationPolicy(
        first["escalate_after_min"],
        first["duty_after_min"],
        first["repeat_every_min"],
        first["max_repeats"],
    )


async def duty_contacts(session: AsyncSession, org_id: str) -> list[RowMapping]:
    """The organisation's static duty contacts (not its rota members')."""
    c = CONTACTS.c
    rows = await session.execute(
        select(CONTACTS)
        .where(c.org_id == org_id, c.role == "duty", c.rota_member.is_(None))
        .order_by(CONTACTS.c.position)
    )
    return list(rows.mappings())


async def contact(session: AsyncSession, contact_id: str) -> RowMapping | None:
    """One contact by id."""
    rows = await session.execute(select(CONTACTS).where(CONTACTS.c.id == contact_id))
    return rows.mappings().first()


async def own_contact(session: AsyncSession, lawyer_id: str, contact_id: str) -> RowMapping | None:
    """One of the lawyer's own contacts (None for anyone else's, the duty desk's included)."""
    c = CONTACTS.c
    query = select(CONTACTS).where(
        c.id == contact_id, c.lawyer_id == lawyer_id, c.role.in_(OWN_ROLES)
    )
    return (await session.execute(query)).mappings().first()


async def mark_tested(
    session: AsyncSession, contact_id: str, now: datetime, since: datetime
) -> bool:
    """Take the contact's test turn: False if it had one after `since` (replicas agree: the
    condition and the write are one statement)."""
    c = CONTACTS.c
    result = await session.execute(
        update(CONTACTS)
        .where(c.id == contact_id, or_(c.tested_at.is_(None), c.tested_at <= since))
        .values(tested_at=now)
        .returning(c.id)
    )
    return result.first() is not None


async def replace_contacts(
    session: AsyncSession,
    keep: Sequence[tuple[str, dict[str, Any]]],
    insert: Sequence[dict[str, Any]],
    remove: Sequence[str],
) -> None:
    """Apply a profile change: update kept contacts, insert new ones, delete dropped ones."""
    if remove:
        await session.execute(delete(CONTACTS).where(CONTACTS.c.id.in_(remove)))
    for contact_id, values in keep:
        await session.execute(update(CONTACTS).where(CONTACTS.c.id == contact_id).values(**values))
    if insert:
        await session.execute(CONTACTS.insert(), list(insert))


async def disable_contact(
    session: AsyncSession, contact_id: str, reason: str, now: datetime
) -> None:
    """Stop using an endpoint (e.g. a webhook answered 410 Gone); a profile update re-enables."""
    await session.execute(
        update(CONTACTS)
        .where(CONTACTS.c.id == contact_id, CONTACTS.c.disabled_at.is_(None))
        .values(disabled_at=now, disabled_reason=reason)
    )


async def policy(session: AsyncSession, org_id: str) -> EscalationPolicy:
    """The organisation's escalation policy, or the default one."""
    row = (await session.execute(select(ORGS).where(ORGS.c.org_id == org_id))).mappings().first()
    if row is None:
        return EscalationPolicy()
    return EscalationPolicy(
        row["escalate_after_min"],
        row["duty_after_min"],
        row["repeat_every_min"],
        row["max_repeats"],
    )


async def put_policy(
    session: AsyncSession, org_id: str, value: EscalationPolicy, updated_by: str, now: datetime
) -> None:
    """Create or replace the organisation's escalation policy."""
    values = {
        "escalate_after_min": value.escalate_after_min,
        "duty_after_min": value.duty_after_min,
        "repeat_every_min": value.repeat_every_min,
        "max_repeats": value.max_repeats,
        "updated_at": now,
        "updated_by": updated_by,
    }
    result = await session.execute(
        update(ORGS).where(ORGS.c.org_id == org_id).values(**values).returning(ORGS.c.org_id)
    )
    if result.first() is None:
        await session.execute(ORGS.insert().values(org_id=org_id, **values))


async def disable_contacts_of(
    session: AsyncSession, *, lawyer_id: str | None, org_id: str | None, reason: str, now: datetime
) -> int:
    """Stop every endpoint of a lawyer, or of a whole organisation (its duty desk included)."""
    c = CONTACTS.c
    owner = c.lawyer_id == lawyer_id if lawyer_id is not None else c.org_id == org_id
    result = await session.execute(
        update(CONTACTS)
        .where(owner, c.disabled_at.is_(None))
        .values(disabled_at=now, disabled_reason=reason)
    )
    return int(getattr(result, "rowcount", 0) or 0)
