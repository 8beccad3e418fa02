"""The injectable clock: the system one tells the time, the fake one moves only when told."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from libs.common.clock import SYSTEM_CLOCK, FakeClock


def test_system_clock_is_aware_utc_and_agrees_with_time() -> None:
    now = SYSTEM_CLOCK.now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert abs(SYSTEM_CLOCK.time() - time.time()) < 1.0
    assert abs(now.timestamp() - time.time()) < 1.0


def test_fake_clock_stands_still_until_advanced() -> None:
    start = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    clock = FakeClock(start)
    time.sleep(0.01)
    assert clock.now() == start and clock.time() == start.timestamp()
    before = clock.monotonic()
    assert clock.advance(600) == start + timedelta(minutes=10)
    assert clock.now() == start + timedelta(minutes=10)
    assert clock.monotonic() == before + 600


def test_fake_clock_never_goes_back_and_needs_a_zone() -> None:
    clock = FakeClock()
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)
    with pytest.raises(ValueError, match="timezone"):
        FakeClock(datetime(2026, 1, 1))
