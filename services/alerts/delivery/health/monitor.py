"""The periodic health check: keys expire and lawyers become unreachable without any send."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.clock import Clock
from libs.common.db import transaction
from services.alerts.delivery.health.domain import HealthRules
from services.alerts.delivery.health.warnings import sweep

log = logging.getLogger(__name__)


@dataclass
class HealthMonitor:
    """Runs `sweep` every `poll_s` (real time) on `clock`'s time; any replica may run it."""

    sessions: async_sessionmaker[AsyncSession]
    rules: HealthRules
    clock: Clock
    poll_s: float
    wake_delivery: Callable[[], None]

    async def tick(self) -> int:
        """One check; warnings created are handed to the delivery worker at once."""
        async with transaction(self.sessions) as session:
            added = await sweep(session, self.rules, self.clock.now())
        if added:
            self.wake_delivery()
        return added

    async def run(self, stop: asyncio.Event) -> None:
        """Check until `stop`; database trouble pauses it, never ends it."""
        while not stop.is_set():
            try:
                await self.tick()
            except Exception as exc:
                log.warning("health check paused", extra={"reason": type(exc).__name__})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.poll_s)
