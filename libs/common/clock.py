"""The one source of time: services read it from an injected `Clock`, tests move a fake one.

Deadlines, expiries, retry schedules and escalation steps are all computed from `now()`, so a
test can jump a fake clock forward by ten "minutes" and watch an escalation step fire without
waiting. Poll intervals stay real time: they only decide how often a loop looks at the clock.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What a service needs to know about time."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...

    def time(self) -> float:
        """The current time in seconds since the epoch (the same instant as `now()`)."""
        ...

    def monotonic(self) -> float:
        """A clock that never goes back, for rates and durations."""
        ...


class SystemClock:
    """The machine's clock."""

    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        return datetime.now(UTC)

    def time(self) -> float:
        """Seconds since the epoch."""
        return time.time()

    def monotonic(self) -> float:
        """`time.monotonic()`."""
        return time.monotonic()


SYSTEM_CLOCK: Clock = SystemClock()


class FakeClock:
    """A clock that starts at the real time and moves only when a test moves it."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        if self._now.tzinfo is None:
            raise ValueError("a fake clock needs a timezone-aware start")
        self._monotonic = 1_000.0
        # Services read the clock from worker threads too (SQLite writes run in one).
        self._lock = threading.Lock()

    def now(self) -> datetime:
        """The fake current time."""
        with self._lock:
            return self._now

    def time(self) -> float:
        """The fake time in seconds since the epoch."""
        return self.now().timestamp()

    def monotonic(self) -> float:
        """Moves with `advance`, like the fake wall clock."""
        with self._lock:
            return self._monotonic

    def advance(self, seconds: float) -> datetime:
        """Move time forward (never back); returns the new now."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        with self._lock:
            self._now += timedelta(seconds=seconds)
            self._monotonic += seconds
            return self._now


def as_utc(value: datetime) -> datetime:
    """A stored time as aware UTC (SQLite hands datetimes back naive; every stored time is UTC)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
