"""Rota use cases: set and show an organisation's rota, who is on duty, its calendar.

Members' contacts are duty contacts (`contacts`, role duty) carrying their member's index, so
the delivery worker sends to them as to any contact. Checking each contact is the profile
service's (through its channel); this module only adds the rota around them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time

from sqlalchemy import RowMapping
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.auth.principal import Principal
from libs.common.clock import Clock, as_utc
from libs.common.db import transaction
from libs.common.errors import InvalidInput, NotFound
from services.alerts.delivery.domain import ContactSpec
from services.alerts.delivery.profiles.service import Profiles
from services.alerts.delivery.profiles.views import contact_out
from services.alerts.rotas import ics
from services.alerts.rotas import repository as repo
from services.alerts.rotas.domain import WEEKDAYS, Override, Rota, check_overrides, stretch_at
from services.alerts.rotas.schemas import MemberOut, OnDutyOut, OverrideOut, RotaIn, RotaOut


@dataclass
class Rotas:
    """Who of an organisation is on duty when."""

    sessions: async_sessionmaker[AsyncSession]
    profiles: Profiles
    clock: Clock

    async def get(self, principal: Principal) -> RotaOut:
        """The caller's organisation's rota (404 until one is set)."""
        async with self.sessions() as session:
            row = await repo.rota_row(session, principal.partner_id)
            if row is None:
                raise NotFound("this organisation has no rota")
            contacts = await repo.member_contacts(session, principal.partner_id)
        return _out(row, contacts, {})

    async def put(self, principal: Principal, body: RotaIn) -> RotaOut:
        """Replace the rota and its members' contacts; generated secrets are shown this once."""
        rota = _rota(body)
        faults = check_overrides(rota.overrides, rota.size)
        if faults:
            raise InvalidInput(
                "invalid overrides",
                fields=[{"path": f"overrides.{i}.{f}", "reason": r} for i, f, r in faults],
            )
        wanted = [
            self.profiles.duty_specs(m.contacts, f"members.{i}.contacts")
            for i, m in enumerate(body.members)
        ]
        org = principal.partner_id
        values = {
            "time_zone": body.time_zone,
            "weekday": rota.weekday,
            "handover": body.handover_time,
            "starts_on": body.starts_on,
            "members": json.dumps([{"name": m.name} for m in body.members]),
            "overrides": json.dumps([_stored(o) for o in rota.overrides]),
            "updated_by": principal.client_id,
        }
        for attempt in range(2):
            try:
                now = self.clock.now()
                async with transaction(self.sessions) as session:
                    await repo.put_rota(session, org, {**values, "updated_at": now})
                    secrets = await self._reconcile(session, org, wanted, now)
                    row = await repo.rota_row(session, org)
                    contacts = await repo.member_contacts(session, org)
                break
            except IntegrityError:
                if attempt:  # a concurrent first write of the same organisation: once more
                    raise
        assert row is not None
        return _out(row, contacts, secrets)

    async def delete(self, principal: Principal) -> None:
        """Drop the rota: duty steps page the static duty contacts again."""
        async with transaction(self.sessions) as session:
            if not await repo.delete_rota(session, principal.partner_id):
                raise NotFound("this organisation has no rota")

    async def on_duty(self, principal: Principal, at: datetime | None) -> OnDutyOut:
        """Who a duty step running at `at` (default now) would page."""
        at = at.astimezone(UTC) if at is not None else self.clock.now()
        org = principal.partner_id
        async with self.sessions() as session:
            row = await repo.rota_row(session, org)
            paged = await repo.duty_at(session, org, at)
        out = OnDutyOut(at=at, source="duty_contacts", contacts=[contact_out(c) for c in paged])
        if row is None:
            return out
        stretch = stretch_at(repo.rota_of(row), at)
        member = stretch.member
        return out.model_copy(
            update={
                # No usable contact of the member: the static duty contacts were chosen instead.
                "source": "rota" if any(c["rota_member"] == member for c in paged) else out.source,
                "member": member,
                "name": _names(row)[member],
                "covering": stretch.covering,
                "until": stretch.ends_at,
            }
        )

    async def calendar(self, principal: Principal, weeks: int) -> bytes:
        """The rota's next `weeks` weeks as an iCalendar document (404 without a rota)."""
        async with self.sessions() as session:
            row = await repo.rota_row(session, principal.partner_id)
        if row is None:
            raise NotFound("this organisation has no rota")
        rota = repo.rota_of(row)
        return ics.calendar(principal.partner_id, rota, _names(row), self.clock.now(), weeks)

    async def _reconcile(
        self,
        session: AsyncSession,
        org: str,
        wanted: Sequence[Sequence[ContactSpec]],
        now: datetime,
    ) -> dict[str, str]:
        """Each member's contacts as asked; a contact kept at its member keeps its secret."""
        existing = await repo.member_contacts(session, org)
        had = max((r["rota_member"] + 1 for r in existing), default=0)
        secrets: dict[str, str] = {}
        for member in range(max(had, len(wanted))):
            mine = [r for r in existing if r["rota_member"] == member]
            specs = list(wanted[member]) if member < len(wanted) else []
            owner = {"org_id": org, "lawyer_id": None, "rota_member": member}
            secrets |= await self.profiles.reconcile(session, mine, specs, owner, now)
        return secrets


def _rota(body: RotaIn) -> Rota:
    overrides = tuple(Override(o.member, o.starts_at, o.ends_at) for o in body.overrides)
    return Rota(
        size=len(body.members),
        time_zone=body.time_zone,
        weekday=WEEKDAYS.index(body.handover_weekday),
        handover=time.fromisoformat(body.handover_time),
        starts_on=body.starts_on,
        overrides=overrides,
    )


def _stored(o: Override) -> dict[str, object]:
    return {
        "member": o.member,
        "starts_at": as_utc(o.starts_at).isoformat(),
        "ends_at": as_utc(o.ends_at).isoformat(),
    }


def _names(row: RowMapping) -> list[str | None]:
    return [m["name"] for m in json.loads(row["members"])]


def _out(row: RowMapping, contacts: Sequence[RowMapping], secrets: dict[str, str]) -> RotaOut:
    rota = repo.rota_of(row)
    return RotaOut(
        org_id=row["org_id"],
        time_zone=row["time_zone"],
        handover_weekday=WEEKDAYS[row["weekday"]],
        handover_time=row["handover"],
        starts_on=rota.starts_on,
        members=[
            MemberOut(
                index=i,
                name=name,
                contacts=[contact_out(c) for c in contacts if c["rota_member"] == i],
            )
            for i, name in enumerate(_names(row))
        ],
        overrides=[
            OverrideOut(member=o.member, starts_at=o.starts_at, ends_at=o.ends_at)
            for o in rota.overrides
        ],
        updated_at=as_utc(row["updated_at"]),
        new_secrets=secrets,
    )
