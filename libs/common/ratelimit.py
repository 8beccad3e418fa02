"""Per-client token buckets (pure; each replica limits what it receives)."""

from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per key: `burst` at once, refilled at `rate` per second."""

    def __init__(self, burst: int, rate: float, max_keys: int = 100_000) -> None:
        self.burst = burst
        self.rate = rate
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()

    def take(self, key: str, now: float, cost: int = 1) -> int:
        """0 if a request costing `cost` may go ahead, else the seconds to wait before retrying."""
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = _Bucket(float(self.burst), now)
            self._buckets[key] = bucket
            if len(self._buckets) > self.max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
        if bucket.tokens >= cost:
            bucket.tokens -= cost
            return 0
        return max(1, math.ceil((min(cost, self.burst) - bucket.tokens) / self.rate))
