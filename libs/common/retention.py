"""What every service's retention sweep shares: the table of its last runs, and their SQL.

Each service prunes its own tables (`services/*/retention/`); this keeps, per sweep, when it
last ran and what the last run that ended anything ended, so `lifeline admin retention show`
answers the same question for every service, whichever replica ran the sweep.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlmodel import Field, SQLModel

from libs.common.clock import SYSTEM_CLOCK, Clock, as_utc
from libs.common.sql import upserting
from libs.common.ticker import Ticker

log = logging.getLogger(__name__)


class RetentionRunBase(SQLModel):
    """One row per sweep: its last run, and the counts of the last run that pruned anything."""

    name: str = Field(primary_key=True, max_length=32)
    last_run_at: datetime
    last_pruned_at: datetime | None = None
    # `{"what": count, …}` of the last run that ended anything: counts only, never ids.
    last_counts: str = Field(default="{}", max_length=2000)


class SweepRun(BaseModel):
    """A sweep's last run, and the counts of its last run that pruned anything (API body)."""

    last_run_at: datetime
    last_pruned_at: datetime | None
    last_counts: dict[str, int]


async def record_run(
    session: AsyncSession, table: Table, name: str, now: datetime, counts: dict[str, int]
) -> None:
    """Note a run; its counts replace the last ones when it pruned anything."""
    row: dict[str, Any] = {"name": name, "last_run_at": now}
    if any(counts.values()):
        row |= {"last_pruned_at": now, "last_counts": json.dumps(counts, sort_keys=True)}
    stmt = upserting(session, table).values(**row)
    updates = {k: stmt.excluded[k] for k in row if k != "name"}
    await session.execute(stmt.on_conflict_do_update(index_elements=["name"], set_=updates))


async def last_runs(session: AsyncSession, table: Table) -> dict[str, dict[str, Any]]:
    """Every sweep's last run, by name."""
    out = {}
    for r in await session.execute(select(table)):
        out[r.name] = {
            "last_run_at": as_utc(r.last_run_at),
            "last_pruned_at": None if r.last_pruned_at is None else as_utc(r.last_pruned_at),
            "last_counts": json.loads(r.last_counts),
        }
    return out


class Sweeper:
    """A service's retention sweep: runs every `interval_s`, and again at once while more waits."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        interval_s: float,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.ticker = Ticker(interval_s)

    async def run(self, stop: asyncio.Event) -> None:
        """Sweep until `stop`; a failed run is logged and retried at the next tick."""
        await self.ticker.run(stop, self.sweep, "retention")

    async def sweep(self) -> dict[str, int]:
        """One bounded run; its counts by what it ended."""
        raise NotImplementedError

    def finished(self, counts: dict[str, int], *, more: bool) -> dict[str, int]:
        """Log a run's counts (never ids) and run again at once, in a new run, if `more` waits."""
        for what, count in counts.items():
            if count:
                log.info("retention sweep", extra={"reason": what, "count": count})
        if more:
            self.ticker.wake()
        return counts
