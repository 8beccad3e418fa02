"""The rota's pure rules: weekly hand-over at local wall time across DST, boundaries, overrides."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.alerts.rotas.domain import (
    Override,
    Rota,
    check_overrides,
    first_handover,
    handover_at,
    on_duty,
    rota_member,
    shifts,
    stretch_at,
    valid_zone,
)

BERLIN = ZoneInfo("Europe/Berlin")
ALMATY = ZoneInfo("Asia/Almaty")


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)  # type: ignore[misc]


def rota(size: int = 3, *, zone: str = "Europe/Berlin", at: time = time(9), **kw: object) -> Rota:
    # Monday hand-overs; 2026-03-02 is a Monday: member 0 starts then.
    return Rota(size, zone, 0, at, kw.pop("starts_on", date(2026, 3, 2)), **kw)  # type: ignore[arg-type]


def test_the_first_handover_is_the_first_handover_weekday_on_or_after_starts_on() -> None:
    assert first_handover(rota(starts_on=date(2026, 3, 2))) == date(2026, 3, 2)
    assert first_handover(rota(starts_on=date(2026, 3, 3))) == date(2026, 3, 9)
    assert first_handover(rota(starts_on=date(2026, 3, 1))) == date(2026, 3, 2)


def test_members_rotate_weekly_and_the_cycle_runs_back_before_the_start() -> None:
    r = rota()
    assert [rota_member(r, berlin(2026, 3, 2, 10) + k * timedelta(days=7)) for k in range(7)] == [
        0, 1, 2, 0, 1, 2, 0,
    ]  # fmt: skip
    assert rota_member(r, berlin(2026, 3, 2, 8)) == 2  # the week before: the cycle's last
    assert rota_member(r, berlin(2026, 2, 20)) == 1


def test_the_handover_instant_belongs_to_the_next_member() -> None:
    r = rota()
    handover = berlin(2026, 3, 9, 9)
    assert on_duty(r, handover - timedelta(microseconds=1)) == 0
    assert on_duty(r, handover) == 1
    # The same instant written in UTC or another zone is the same hand-over.
    assert on_duty(r, handover.astimezone(UTC)) == 1
    assert on_duty(r, handover.astimezone(ALMATY) - timedelta(seconds=1)) == 0


def test_the_handover_stays_at_local_wall_time_across_daylight_saving() -> None:
    r = rota()
    # Berlin moves to summer time on Sunday 2026-03-29: 09:00 is 08:00 UTC before, 07:00 after.
    assert handover_at(r, date(2026, 3, 23)) == datetime(2026, 3, 23, 8, tzinfo=UTC)
    assert handover_at(r, date(2026, 3, 30)) == datetime(2026, 3, 30, 7, tzinfo=UTC)
    assert on_duty(r, datetime(2026, 3, 30, 6, 59, 59, tzinfo=UTC)) == 0  # week 3 → member 0
    assert on_duty(r, datetime(2026, 3, 30, 7, tzinfo=UTC)) == 1
    # And back to winter time on 2026-10-25: 09:00 is 08:00 UTC again on the 26th.
    assert handover_at(r, date(2026, 10, 26)) == datetime(2026, 10, 26, 8, tzinfo=UTC)
    assert on_duty(r, datetime(2026, 10, 26, 7, 59, tzinfo=UTC)) == on_duty(
        r, datetime(2026, 10, 20, tzinfo=UTC)
    )


def test_a_week_across_a_dst_change_is_an_hour_short_or_long() -> None:
    r = rota()
    spring = [s for s in shifts(r, berlin(2026, 3, 24), berlin(2026, 3, 25))]
    (s,) = spring
    assert s.ends_at - s.starts_at == timedelta(days=7, hours=-1)
    (autumn,) = shifts(r, berlin(2026, 10, 20), berlin(2026, 10, 21))
    assert autumn.ends_at - autumn.starts_at == timedelta(days=7, hours=1)


def test_a_handover_in_the_skipped_hour_happens_after_the_change() -> None:
    # Sunday hand-overs at 02:30: on 2026-03-29 Berlin jumps from 02:00 to 03:00.
    r = Rota(2, "Europe/Berlin", 6, time(2, 30), date(2026, 3, 1))
    assert handover_at(r, date(2026, 3, 29)) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    # 02:30 happens twice on 2026-10-25: the first one (still summer time) is the hand-over.
    assert handover_at(r, date(2026, 10, 25)) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_the_weekday_is_the_local_one_not_utcs() -> None:
    # Monday 00:30 in Almaty (UTC+5) is still Sunday 19:30 in UTC.
    r = Rota(2, "Asia/Almaty", 0, time(0, 30), date(2026, 3, 2))
    handover = datetime(2026, 3, 8, 19, 30, tzinfo=UTC)
    assert handover.astimezone(ALMATY).weekday() == 0 and handover.weekday() == 6
    assert on_duty(r, handover - timedelta(seconds=1)) == 0
    assert on_duty(r, handover) == 1
    # A rota in UTC with the same wall time hands over five hours later.
    assert on_duty(Rota(2, "UTC", 0, time(0, 30), date(2026, 3, 2)), handover) == 0


def test_an_override_puts_its_member_on_duty_for_its_half_open_range() -> None:
    holiday = Override(2, berlin(2026, 3, 10, 12), berlin(2026, 3, 12, 12))
    r = rota(overrides=(holiday,))
    assert on_duty(r, berlin(2026, 3, 10, 11, 59)) == 1
    assert on_duty(r, berlin(2026, 3, 10, 12)) == 2
    assert on_duty(r, berlin(2026, 3, 12, 11, 59)) == 2
    assert on_duty(r, berlin(2026, 3, 12, 12)) == 1  # the end belongs to the rotation again


def test_an_override_across_a_handover_covers_both_weeks() -> None:
    r = rota(overrides=(Override(0, berlin(2026, 3, 13), berlin(2026, 3, 18)),))
    assert on_duty(r, berlin(2026, 3, 16, 9)) == 0  # would be member 2 from this hand-over
    assert on_duty(r, berlin(2026, 3, 18)) == 2


def test_shifts_cut_overrides_into_the_rotation() -> None:
    r = rota(overrides=(Override(2, berlin(2026, 3, 10, 12), berlin(2026, 3, 12, 12)),))
    got = [
        (s.member, s.starts_at, s.ends_at, s.covering)
        for s in shifts(r, berlin(2026, 3, 3), berlin(2026, 3, 17))
    ]
    utc = lambda *a: berlin(*a).astimezone(UTC)  # noqa: E731
    assert got == [
        (0, utc(2026, 3, 2, 9), utc(2026, 3, 9, 9), False),
        (1, utc(2026, 3, 9, 9), utc(2026, 3, 10, 12), False),
        (2, utc(2026, 3, 10, 12), utc(2026, 3, 12, 12), True),
        (1, utc(2026, 3, 12, 12), utc(2026, 3, 16, 9), False),
        (2, utc(2026, 3, 16, 9), utc(2026, 3, 23, 9), False),
    ]
    # Every instant of the span is covered once, by the member `on_duty` names.
    for s in got:
        assert on_duty(r, s[1]) == s[0]


def test_a_one_member_rota_is_always_that_member() -> None:
    r = rota(1)
    assert {on_duty(r, berlin(2026, 1, 1) + timedelta(hours=h * 13)) for h in range(100)} == {0}


def test_overlapping_overrides_and_bad_members_are_refused() -> None:
    a = Override(0, berlin(2026, 3, 10), berlin(2026, 3, 12))
    b = Override(1, berlin(2026, 3, 11), berlin(2026, 3, 13))
    touching = Override(1, berlin(2026, 3, 12), berlin(2026, 3, 13))
    assert check_overrides([a, touching], 2) == []
    assert check_overrides([b, a], 2) == [(0, "starts_at", "overlaps override 1")]
    assert check_overrides([Override(5, a.starts_at, a.ends_at)], 2) == [
        (0, "member", "must name a member (0 to 1)")
    ]
    assert check_overrides([Override(0, a.ends_at, a.starts_at)], 2) == [
        (0, "ends_at", "must be after starts_at")
    ]


def test_naive_instants_are_refused_and_zones_must_exist() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        on_duty(rota(), datetime(2026, 3, 9, 9))
    assert valid_zone("Asia/Almaty") == "Asia/Almaty"
    for bad in ("Mars/Olympus", "../etc/passwd", ""):
        with pytest.raises(ValueError, match="IANA"):
            valid_zone(bad)


def test_the_stretch_at_an_instant_is_the_override_or_the_rest_of_the_shift() -> None:
    holiday = Override(2, berlin(2026, 3, 10, 12), berlin(2026, 3, 12, 12))
    r = rota(overrides=(holiday,))
    inside = stretch_at(r, berlin(2026, 3, 10, 12))  # its first instant
    assert (inside.member, inside.covering, inside.ends_at) == (2, True, holiday.ends_at)
    after = stretch_at(r, berlin(2026, 3, 12, 12))
    assert (after.member, after.covering) == (1, False)
    assert after.ends_at == berlin(2026, 3, 16, 9).astimezone(UTC)
    assert stretch_at(r, berlin(2026, 3, 16, 9)).member == 2  # the hand-over instant
