"""The rota's calendar: RFC 5545 that `icalendar` reads back, shifts at local wall time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import icalendar

from services.alerts.rotas.domain import Override, Rota
from services.alerts.rotas.ics import calendar


def test_the_calendar_follows_the_handover_across_a_dst_change() -> None:
    # Berlin, Monday 09:00; summer time begins on Sunday 2026-03-29.
    cover = Override(0, datetime(2026, 3, 25, tzinfo=UTC), datetime(2026, 3, 26, tzinfo=UTC))
    rota = Rota(2, "Europe/Berlin", 0, time(9), date(2026, 3, 2), (cover,))
    now = datetime(2026, 3, 18, 12, tzinfo=UTC)
    text = calendar("bar-1", rota, ["Anna", None], now, 3)
    cal = icalendar.Calendar.from_ical(text)
    assert str(cal["VERSION"]) == "2.0" and str(cal["PRODID"]).startswith("-//Lifeline")
    got = [
        (e.decoded("DTSTART"), e.decoded("DTEND"), str(e["SUMMARY"])) for e in cal.walk("VEVENT")
    ]
    utc = lambda *a: datetime(*a, tzinfo=UTC)  # noqa: E731
    assert got == [
        (utc(2026, 3, 16, 8), utc(2026, 3, 23, 8), "On duty: Anna"),  # running at `now`
        (utc(2026, 3, 23, 8), utc(2026, 3, 25), "On duty: Member 2"),
        (utc(2026, 3, 25), utc(2026, 3, 26), "On duty: Anna (covering)"),
        (utc(2026, 3, 26), utc(2026, 3, 30, 7), "On duty: Member 2"),  # 09:00 CEST
        (utc(2026, 3, 30, 7), utc(2026, 4, 6, 7), "On duty: Anna"),
        (utc(2026, 4, 6, 7), utc(2026, 4, 13, 7), "On duty: Member 2"),  # through now + 3 weeks
    ]
    # Every event is dated now and has its own UID, the same on the next fetch.
    assert all(e.decoded("DTSTAMP") == now for e in cal.walk("VEVENT"))
    again = calendar("bar-1", rota, ["Anna", None], now + timedelta(hours=1), 3)
    uids = [str(e["UID"]) for e in cal.walk("VEVENT")]
    assert len(set(uids)) == len(uids)
    assert uids == [str(e["UID"]) for e in icalendar.Calendar.from_ical(again).walk("VEVENT")]
