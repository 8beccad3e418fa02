"""Retention as administrators set and read it: partners' periods, the network's, last runs."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.db import transaction
from libs.common.errors import NotFound
from libs.common.retention import last_runs
from services.sharing.access.models import PARTNERS
from services.sharing.audit import repository as audit_log
from services.sharing.retention import repository as repo
from services.sharing.retention.domain import Periods, SweepLimits, effective, shortens
from services.sharing.retention.models import RUNS


class RetentionAdmin:
    """Show and set a partner's periods (audited); show the network's and the sweep's runs."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        limits: SweepLimits,
        *,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.sessions = sessions
        self.limits = limits
        self.clock = clock

    async def partner(self, partner_id: str) -> dict[str, Any]:
        """A partner's own periods and what applies to each TLP (404 for no such partner)."""
        async with self.sessions() as session:
            await _existing(session, partner_id)
            own = await repo.periods_of(session, partner_id)
        return self._view(partner_id, own)

    async def shortens(self, partner_id: str, periods: Periods) -> bool:
        """Whether setting `periods` would make any of the partner's reports expire sooner."""
        async with self.sessions() as session:
            await _existing(session, partner_id)
            before = await repo.periods_of(session, partner_id)
        network = self.limits.reports
        return shortens(effective(before, network), effective(periods, network))

    async def set(self, actor: str, partner_id: str, periods: Periods) -> dict[str, Any]:
        """Replace a partner's periods; `retention.set` records before, after, and whether
        any TLP's period became shorter (the next sweep erases what is then past it)."""
        now, network = self.clock.now(), self.limits.reports
        async with transaction(self.sessions) as session:
            await _existing(session, partner_id)
            before = await repo.periods_of(session, partner_id)
            await repo.replace_periods(session, partner_id, periods, actor, now)
            await audit_log.append(
                session,
                actor=actor,
                action="retention.set",
                target=partner_id,
                details={
                    "before": before.as_dict(),
                    "after": periods.as_dict(),
                    "shortens": shortens(effective(before, network), effective(periods, network)),
                },
                now=now,
            )
        return self._view(partner_id, periods)

    async def network(self) -> dict[str, Any]:
        """The network's periods, the sweep's bounds, and its last runs."""
        async with self.sessions() as session:
            runs = await last_runs(session, RUNS)
        return {
            "reports": self.limits.reports.as_dict(),
            "read_log_days": self.limits.read_log_days,
            "batch": self.limits.batch,
            "interval_s": self.limits.interval_s,
            "sweeps": runs,
        }

    def _view(self, partner_id: str, own: Periods) -> dict[str, Any]:
        return {
            "partner_id": partner_id,
            "own": own.as_dict(),
            "effective": effective(own, self.limits.reports),
        }


async def _existing(session: AsyncSession, partner_id: str) -> None:
    found = await session.execute(select(PARTNERS.c.id).where(PARTNERS.c.id == partner_id))
    if found.first() is None:
        raise NotFound("no such partner")
