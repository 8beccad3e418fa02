"""Per-client token buckets (pure; each replica limits what it receives) and the RateLimit headers.

The headers are draft-ietf-httpapi-ratelimit-headers' structured fields: `RateLimit-Policy:
"name";q=<quota>;w=<window seconds>` and `RateLimit: "name";r=<remaining>;t=<seconds to reset>`.
A bucket of `burst` refilled at `rate` per second is the policy q=burst, w=burst/rate (rounded up):
`t` says when it is full again.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass

from libs.common.errors import RateLimited


@dataclass(frozen=True, slots=True)
class Quota:
    """One policy as a client sees it after a request: its limit, window, what is left, reset."""

    name: str
    limit: int
    window: int
    remaining: int
    reset: int


def ratelimit_headers(quotas: Iterable[Quota]) -> dict[str, str]:
    """`RateLimit-Policy` and `RateLimit` for these policies (names are `[a-z0-9-]` strings)."""
    listed = list(quotas)
    return {
        "RateLimit-Policy": ", ".join(f'"{q.name}";q={q.limit};w={q.window}' for q in listed),
        "RateLimit": ", ".join(f'"{q.name}";r={q.remaining};t={q.reset}' for q in listed),
    }


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """A token bucket per key: `burst` at once, refilled at `rate` per second."""

    def __init__(
        self, burst: int, rate: float, max_keys: int = 100_000, *, name: str = "default"
    ) -> None:
        self.name = name
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

    def quota(self, key: str, now: float) -> Quota:
        """What `key` has left now, as its RateLimit header says it (nothing is taken)."""
        bucket = self._buckets.get(key)
        tokens = float(self.burst)
        if bucket is not None:
            tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        return Quota(
            self.name,
            self.burst,
            max(1, math.ceil(self.burst / self.rate)),
            int(tokens),
            math.ceil((self.burst - tokens) / self.rate),
        )

    def check(self, key: str, now: float, cost: int = 1) -> Quota:
        """Take `cost` for `key` and say what is left; RateLimited (with the headers) if over."""
        wait = self.take(key, now, cost)
        quota = self.quota(key, now)
        if wait:
            raise RateLimited(wait, headers=ratelimit_headers([quota]))
        return quota
