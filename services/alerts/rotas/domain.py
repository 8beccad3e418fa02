"""Pure rules of a rota: who is on duty at an instant, and the shifts of a span. No I/O.

A rota hands over once a week at a local wall time (`weekday`, `handover`) in an IANA time
zone, so a hand-over stays at 09:00 local across daylight-saving changes. Shifts are half-open
`[hand-over, next hand-over)`: the hand-over instant itself belongs to the next member. The
shift that begins at the first hand-over on or after `starts_on` is member 0's; the cycle runs
on (and back) from there. An override `[starts_at, ends_at)` puts another member on duty;
overrides never overlap (`check_overrides` refuses it), so at most one applies.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEK = timedelta(days=7)
TICK = timedelta(microseconds=1)  # the smallest span: the one instant `[at, at + TICK)`


@dataclass(frozen=True)
class Override:
    """Member `member` is on duty in `[starts_at, ends_at)` instead of the rota's (holidays)."""

    member: int
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True)
class Rota:
    """Weekly rotation of `size` members; hand-over on `weekday` (0 = Monday) at `handover`."""

    size: int
    time_zone: str
    weekday: int
    handover: time
    starts_on: date
    overrides: tuple[Override, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        """The rota's time zone."""
        return ZoneInfo(self.time_zone)


@dataclass(frozen=True)
class Shift:
    """One stretch of duty: `member` from `starts_at` to `ends_at` (UTC), maybe covering."""

    member: int
    starts_at: datetime
    ends_at: datetime
    covering: bool = False


def valid_zone(name: str) -> str:
    """The IANA zone name, or ValueError."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("not an IANA time zone (e.g. Europe/Berlin)") from None
    return name


def _utc(value: datetime) -> datetime:
    # Aware datetimes that share a ZoneInfo compare by wall time: always compare in UTC.
    if value.tzinfo is None:
        raise ValueError("a rota needs timezone-aware instants")
    return value.astimezone(UTC)


def handover_at(rota: Rota, day: date) -> datetime:
    """The hand-over instant (UTC) of a local date: a wall time a DST change skips falls after
    the change, one it repeats is its first occurrence (PEP 495, fold=0)."""
    return datetime.combine(day, rota.handover, tzinfo=rota.zone).astimezone(UTC)


def first_handover(rota: Rota) -> date:
    """The local date of member 0's first hand-over: the first `weekday` on or after starts_on."""
    return rota.starts_on + timedelta(days=(rota.weekday - rota.starts_on.weekday()) % 7)


def shift_start(rota: Rota, at: datetime) -> date:
    """The local date of the hand-over that began the rota's shift running at `at`."""
    at = _utc(at)
    local = at.astimezone(rota.zone).date()
    day = local - timedelta(days=(local.weekday() - rota.weekday) % 7)
    if at < handover_at(rota, day):
        day -= WEEK
    return day


def rota_member(rota: Rota, at: datetime) -> int:
    """Who the rotation (without overrides) puts on duty at `at`."""
    weeks = (shift_start(rota, at) - first_handover(rota)).days // 7
    return weeks % rota.size


def override_at(rota: Rota, at: datetime) -> Override | None:
    """The override in force at `at` (half-open), if any."""
    at = _utc(at)
    for o in rota.overrides:
        if _utc(o.starts_at) <= at < _utc(o.ends_at):
            return o
    return None


def on_duty(rota: Rota, at: datetime) -> int:
    """The member (index) on duty at `at`: an override's, else the rotation's."""
    covering = override_at(rota, at)
    return covering.member if covering is not None else rota_member(rota, at)


def rota_shifts(rota: Rota, start: datetime, end: datetime) -> list[Shift]:
    """The rotation's weekly shifts (no overrides) that meet `[start, end)`."""
    start, end = _utc(start), _utc(end)
    day = shift_start(rota, start)
    out: list[Shift] = []
    while (begins := handover_at(rota, day)) < end:
        out.append(Shift(rota_member(rota, begins), begins, handover_at(rota, day + WEEK)))
        day += WEEK
    return out


def shifts(rota: Rota, start: datetime, end: datetime) -> list[Shift]:
    """Who is on duty across `[start, end)`, overrides cut in, in time order (whole shifts:
    the first may begin before `start`, the last end after `end`)."""
    start, end = _utc(start), _utc(end)
    meets = [o for o in rota.overrides if _utc(o.ends_at) > start and _utc(o.starts_at) < end]
    cuts = sorted(meets, key=lambda o: _utc(o.starts_at))
    out: list[Shift] = []
    for s in rota_shifts(rota, start, end):
        cursor = s.starts_at
        for o in cuts:
            o_start, o_end = _utc(o.starts_at), _utc(o.ends_at)
            if o_end <= cursor or o_start >= s.ends_at:
                continue
            if o_start > cursor:
                out.append(Shift(s.member, cursor, o_start))
            cursor = min(o_end, s.ends_at)
        if cursor < s.ends_at:
            out.append(Shift(s.member, cursor, s.ends_at))
    for o in cuts:  # overrides as shifts of their own, whole
        out.append(Shift(o.member, _utc(o.starts_at), _utc(o.ends_at), covering=True))
    return sorted(out, key=lambda s: (s.starts_at, s.covering))


def stretch_at(rota: Rota, at: datetime) -> Shift:
    """The stretch of duty running at `at` (an override's, or the part of a shift around it)."""
    at = _utc(at)
    return next(s for s in shifts(rota, at, at + TICK) if s.starts_at <= at < s.ends_at)


def check_overrides(overrides: Sequence[Override], size: int) -> list[tuple[int, str, str]]:
    """What is wrong with the overrides: (index, field, reason) for each fault."""
    faults: list[tuple[int, str, str]] = []
    for i, o in enumerate(overrides):
        if not 0 <= o.member < size:
            faults.append((i, "member", f"must name a member (0 to {size - 1})"))
        if _utc(o.ends_at) <= _utc(o.starts_at):
            faults.append((i, "ends_at", "must be after starts_at"))
    ordered = sorted(range(len(overrides)), key=lambda i: _utc(overrides[i].starts_at))
    for before, after in itertools.pairwise(ordered):
        if _utc(overrides[after].starts_at) < _utc(overrides[before].ends_at):
            faults.append((after, "starts_at", f"overlaps override {before}"))
    return faults
