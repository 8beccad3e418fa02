"""When to try a delivery again: the retry schedule with jitter, and a receiver's Retry-After."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime
from email.utils import parsedate_to_datetime


def retry_delay(
    failures: int,
    schedule: Sequence[float],
    jitter: float,
    *,
    retry_after: float | None = None,
    rng: random.Random | None = None,
    cap: float = 3600.0,
) -> float:
    """Seconds until the next attempt after `failures` failed ones (1-based); jittered."""
    base = schedule[min(failures, len(schedule)) - 1]
    spread = (rng or random).uniform(1 - jitter, 1 + jitter)  # jitter, not a secret
    delay = base * spread
    if retry_after is not None:
        # The receiver said when it can take the message again: never sooner than that.
        delay = max(delay, retry_after)
    return min(delay, cap)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or HTTP date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())
