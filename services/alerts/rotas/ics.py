"""The rota as an RFC 5545 calendar: one VEVENT per stretch of duty, display names only.

A calendar is shared widely (phones, calendar servers), so it carries who is on duty when and
nothing that reaches them: no contact address, no channel.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta

from services.alerts.rotas.domain import Rota, shifts

PRODID = "-//Lifeline//Alerts rota//EN"


def display_name(names: Sequence[str | None], member: int) -> str:
    """A member's name, or its place in the rotation when it has none."""
    name = names[member] if member < len(names) else None
    return name or f"Member {member + 1}"


def calendar(
    org_id: str, rota: Rota, names: Sequence[str | None], now: datetime, weeks: int
) -> bytes:
    """The shifts from the one running at `now` through `weeks` weeks, overrides applied."""
    # icalendar (~3 MB resident) is loaded by the first calendar asked for, not at start.
    from icalendar import Calendar, Event

    cal = Calendar.new(
        prodid=PRODID, name="Lifeline duty rota", calscale="GREGORIAN", uid=_uid(org_id)
    )
    for shift in shifts(rota, now, now + timedelta(weeks=weeks)):
        who = display_name(names, shift.member)
        # Stable per stretch: a calendar app updates an event in place on the next fetch.
        seed = f"{org_id}|{shift.starts_at.isoformat()}|{shift.member}|{shift.covering}"
        uid = _uid(seed)
        summary = f"On duty: {who}" + (" (covering)" if shift.covering else "")
        cal.add_component(
            Event.new(uid=uid, start=shift.starts_at, end=shift.ends_at, stamp=now, summary=summary)
        )
    return bytes(cal.to_ical())


def _uid(seed: str) -> str:
    # Derived, not random: the same calendar and shifts keep their UIDs from fetch to fetch.
    return hashlib.sha256(seed.encode()).hexdigest()[:32] + "@lifeline"
