"""Background work that runs every few seconds, and at once when woken (after a commit)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Ticker:
    """Runs `work` every `interval` seconds and whenever `wake()` is called, until `stop`.

    `interval` is a safety poll for work nobody woke it for; work left undone (`soon()`, or a
    failure) runs again after `retry` seconds instead, so a long interval never slows recovery.
    """

    def __init__(self, interval: float, retry: float = 1.0) -> None:
        self.interval = interval
        self.retry = min(retry, interval)
        self._wake = asyncio.Event()
        self._soon = False

    def wake(self) -> None:
        """Run now rather than at the next tick."""
        self._wake.set()

    def soon(self) -> None:
        """Run again after `retry` seconds rather than `interval` (work is left for later)."""
        self._soon = True

    async def run(
        self, stop: asyncio.Event, work: Callable[[], Awaitable[object]], name: str
    ) -> None:
        """Loop until `stop` is set; NATS or the database away only pauses it (never dies)."""
        while not stop.is_set():
            timeout = self.retry if self._soon else self.interval
            self._soon = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=timeout)
            self._wake.clear()
            try:
                await work()
            except Exception as exc:
                log.warning(
                    "background work paused", extra={"task": name, "reason": type(exc).__name__}
                )
                self.soon()
