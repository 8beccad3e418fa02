"""The alerts' retention sweep and what administrators see of it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.contracts import SystemPruned, new_event
from libs.common.db import transaction
from libs.common.outbox import enqueue
from libs.common.retention import Sweeper, last_runs, record_run
from services.alerts.models import OUTBOX
from services.alerts.retention import repository as repo
from services.alerts.retention.domain import SWEEP, AlertsRetention
from services.alerts.retention.models import RUNS

COUNTED = ("alerts", "deliveries", "delivery_attempts", "contact_warnings")


class RetentionSweeper(Sweeper):
    """Prunes past their periods, at most `batch` of each kind per run, one transaction a run."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        limits: AlertsRetention,
        *,
        clock: Clock = SYSTEM_CLOCK,
        wake_relay: Callable[[], None] = lambda: None,
    ) -> None:
        super().__init__(sessions, limits.interval_s, clock)
        self.limits = limits
        self.wake_relay = wake_relay

    async def sweep(self) -> dict[str, int]:
        """One bounded run; its counts are recorded with it (`retention_runs`) and logged."""
        now, batch = self.clock.now(), self.limits.batch
        cut = self.limits.cutoffs(now)
        counts: Counter[str] = Counter({k: 0 for k in COUNTED})
        old_attempts = 0
        async with transaction(self.sessions) as session:
            alerts = cut["alerts"]
            if alerts is not None:
                counts.update(await repo.prune_alerts(session, alerts, batch))
            warnings = cut["contact_warnings"]
            if warnings is not None:
                counts.update(await repo.prune_warnings(session, warnings, batch))
            attempts = cut["delivery_attempts"]
            if attempts is not None:
                old_attempts = await repo.prune_attempts(session, attempts, batch)
                counts["delivery_attempts"] += old_attempts
            await record_run(session, RUNS, SWEEP, now, dict(counts))
            if any(counts.values()):
                # Alerts keeps no audit chain: sharing's records the run, with the prune itself.
                pruned = SystemPruned(counts=dict(counts))
                await enqueue(session, OUTBOX, new_event(pruned, "alerts", SWEEP, at=now))
        if any(counts.values()):
            self.wake_relay()
        more = max(counts["alerts"], counts["contact_warnings"], old_attempts) >= batch
        return self.finished(dict(counts), more=more)

    async def show(self) -> dict[str, Any]:
        """The periods, the bounds and the last runs."""
        async with self.sessions() as session:
            runs = await last_runs(session, RUNS)
        return {**self.limits.as_dict(), "sweeps": runs}
