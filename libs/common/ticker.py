"""Background work that runs every few seconds, and at once when woken (after a commit)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Ticker:
    """Runs `work` every `interval` seconds and whenever `wake()` is called, until `stop`."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Run now rather than at the next tick."""
        self._wake.set()

    async def run(
        self, stop: asyncio.Event, work: Callable[[], Awaitable[object]], name: str
    ) -> None:
        """Loop until `stop` is set; NATS or the database away only pauses it (never dies)."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.interval)
            self._wake.clear()
            try:
                await work()
            except Exception as exc:
                log.warning(
                    "background work paused", extra={"task": name, "reason": type(exc).__name__}
                )
                await asyncio.sleep(min(self.interval, 0.5))
