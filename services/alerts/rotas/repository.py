"""SQL of rotas, and who the duty step of an escalation pages at a given instant."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import RowMapping, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.alerts.delivery.profiles import repository as profiles
from services.alerts.delivery.profiles.models import CONTACTS
from services.alerts.rotas.domain import Override, Rota, on_duty
from services.alerts.rotas.models import ROTAS


def rota_of(row: RowMapping) -> Rota:
    """The pure rota of a stored row."""
    return Rota(
        size=len(json.loads(row["members"])),
        time_zone=row["time_zone"],
        weekday=row["weekday"],
        handover=time.fromisoformat(row["handover"]),
        starts_on=_date(row["starts_on"]),
        overrides=tuple(_override(o) for o in json.loads(row["overrides"])),
    )


def _override(stored: dict[str, Any]) -> Override:
    starts, ends = stored["starts_at"], stored["ends_at"]
    return Override(stored["member"], datetime.fromisoformat(starts), datetime.fromisoformat(ends))


def _date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


async def rota_row(session: AsyncSession, org_id: str) -> RowMapping | None:
    """The organisation's rota, if it has one."""
    query = select(ROTAS).where(ROTAS.c.org_id == org_id)
    return (await session.execute(query)).mappings().first()


async def member_contacts(session: AsyncSession, org_id: str) -> list[RowMapping]:
    """The contacts of every rota member, by member then position."""
    c = CONTACTS.c
    rows = await session.execute(
        select(CONTACTS)
        .where(c.org_id == org_id, c.role == "duty", c.rota_member.is_not(None))
        .order_by(c.rota_member, c.position)
    )
    return list(rows.mappings())


async def put_rota(session: AsyncSession, org_id: str, values: dict[str, Any]) -> None:
    """Create or replace the organisation's rota row."""
    result = await session.execute(
        update(ROTAS).where(ROTAS.c.org_id == org_id).values(**values).returning(ROTAS.c.org_id)
    )
    if result.first() is None:
        await session.execute(ROTAS.insert().values(org_id=org_id, **values))


async def delete_rota(session: AsyncSession, org_id: str) -> bool:
    """Drop the rota and its members' contacts; False if there was none."""
    c = CONTACTS.c
    await session.execute(
        delete(CONTACTS).where(c.org_id == org_id, c.role == "duty", c.rota_member.is_not(None))
    )
    result = await session.execute(delete(ROTAS).where(ROTAS.c.org_id == org_id))
    return bool(getattr(result, "rowcount", 0))


async def duty_at(session: AsyncSession, org_id: str, at: datetime) -> list[RowMapping]:
    """Who a duty step pages at `at`: the usable contacts of the rota member on duty then, else
    (no rota, or none of that member's contacts works) the static duty contacts."""
    row = await rota_row(session, org_id)
    if row is not None:
        member = on_duty(rota_of(row), at)
        c = CONTACTS.c
        rows = await session.execute(
            select(CONTACTS)
            .where(c.org_id == org_id, c.role == "duty", c.rota_member == member)
            .where(c.disabled_at.is_(None))
            .order_by(c.position)
        )
        paged = list(rows.mappings())
        if paged:
            return paged
    return await profiles.duty_contacts(session, org_id)
