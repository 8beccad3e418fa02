"""The retention sweep: erases reports past their period and prunes the read log, in batches."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.db import transaction
from libs.common.retention import Sweeper, record_run
from services.sharing.audit import repository as audit_log
from services.sharing.retention import repository as repo
from services.sharing.retention.domain import (
    REASON,
    RETENTION_ACTOR,
    SweepLimits,
    cutoff,
    expiries,
)
from services.sharing.retention.models import RUNS
from services.sharing.vault.erasure import ReportActions

SWEEP = "sharing"
# Read-log rows are small: a run deletes this many times more of them than it erases reports.
READS_PER_REPORT = 10


class RetentionSweeper(Sweeper):
    """Erases expired reports one by one and prunes the read log, in batches."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        actions: ReportActions,
        limits: SweepLimits,
        *,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        super().__init__(sessions, limits.interval_s, clock)
        self.actions = actions
        self.limits = limits

    async def sweep(self) -> dict[str, int]:
        """One bounded run: each report erased in its own transaction, then one audit entry."""
        now, batch = self.clock.now(), self.limits.batch
        async with self.sessions() as session:
            own = await repo.all_periods(session)
            due = expiries(await repo.partner_ids(session), own, self.limits.reports, now)
            found = await repo.expired(session, due, batch)
        days = {(e.partner_id, e.tlp): e.days for e in due}
        erased = 0
        for report_id, partner_id, tlp in found:
            details = {"partner": partner_id, "reason": REASON, "days": days[partner_id, tlp]}
            # The same erasure as a person's request: tombstone, keys, event, audit entry.
            if await self.actions.shred(report_id, partner_id, RETENTION_ACTOR, details):
                erased += 1
        if erased:
            await self.actions.settle()
        counts = {"reports_erased": erased, "read_log_pruned": 0}
        read_cutoff = cutoff(self.limits.read_log_days, now)
        async with transaction(self.sessions) as session:
            if read_cutoff is not None:
                counts["read_log_pruned"] = await repo.prune_reads(
                    session, read_cutoff, batch * READS_PER_REPORT
                )
            # Erasing a follow-up may have let its earlier report expire: look again at once.
            more = bool(found) or counts["read_log_pruned"] == batch * READS_PER_REPORT
            if any(counts.values()):
                await audit_log.append(
                    session,
                    actor=RETENTION_ACTOR,
                    action="retention.sweep",
                    target=SWEEP,
                    details={**counts, "more": more},
                    now=now,
                )
            await record_run(session, RUNS, SWEEP, now, counts)
        return self.finished(counts, more=more)
