"""Retrying a request while a later try may succeed: capped exponential back-off with jitter.

Hand-written rather than taken from tenacity or stamina (neither is a dependency): whether to
retry and how long to wait depend on the answer itself (`Retry-After`, a 401 that outlived a
fresh token), which is a dozen lines here and a callback per rule there. httpx's own `retries`
covers failed connects only.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import httpx

from libs.sdk.auth import TokenRequestError

# draft-ietf-httpapi-idempotency-key-header: the same key on every try of one create.
IDEMPOTENCY_KEY = "Idempotency-Key"


class GaveUp(Exception):
    """The retry budget ran out before a final answer; `reason` says what the last try met."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Backoff:
    """How long and how often to retry one request."""

    budget_s: float = 120.0  # from the first try; past it the request has failed
    first_s: float = 0.5
    cap_s: float = 30.0
    # A 401 although the token was just fetched: a service restarted a moment ago and has not
    # loaded sharing's keys yet. Worth waiting for that long, not for a whole budget.
    unauthenticated_s: float = 30.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    clock: Callable[[], float] = time.monotonic
    jitter: Callable[[], float] = field(default=random.random)

    def delay(self, attempt: int) -> float:
        """The pause before try `attempt + 1`: half fixed, half random, doubling up to the cap."""
        ceiling = min(self.cap_s, self.first_s * 2.0 ** min(attempt, 32))
        return ceiling / 2 + self.jitter() * ceiling / 2

    async def request(self, send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
        """The first answer worth returning (success, or a refusal no retry changes).

        Raises `GaveUp` once the budget would be over before the next try.
        """
        start = self.clock()
        attempt = 0
        while True:
            wait = 0.0
            try:
                response = await send()
            except httpx.TransportError as exc:  # refused, reset, timed out
                reason = f"no answer ({type(exc).__name__})"
            except TokenRequestError as exc:
                if not exc.retryable:
                    raise
                reason = f"no access token ({exc.http_status or 'unreachable'})"
            else:
                retry_after = self._retryable(response, self.clock() - start)
                if retry_after is None:
                    return response
                reason, wait = f"HTTP {response.status_code}", retry_after
            pause = max(wait, self.delay(attempt))
            if self.clock() - start + pause > self.budget_s:
                raise GaveUp(reason)
            await self.sleep(pause)
            attempt += 1

    def _retryable(self, response: httpx.Response, elapsed: float) -> float | None:
        """The server's requested wait if `response` is worth retrying (0 if it named none)."""
        status = response.status_code
        if status == 401 and elapsed < self.unauthenticated_s:
            return 0.0
        if status == 429 or status >= 500 or _in_progress(response):
            return retry_after(response)
        return None


def _in_progress(response: httpx.Response) -> bool:
    """A 409 saying the first try with this Idempotency-Key is still running: worth waiting."""
    if response.status_code != 409:
        return False
    try:
        return bool(response.json().get("code") == "idempotency_in_progress")
    except (ValueError, AttributeError):
        return False


def retry_after(response: httpx.Response) -> float:
    """`Retry-After` in seconds (a number or an HTTP date); 0 when absent or unreadable."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return 0.0
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return 0.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
