"""Erasure of a report: crypto-shredding by its submitter, an administrator or retention."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from libs.common.auth.principal import Principal
from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.db import checkpoint_wal, transaction
from libs.common.errors import Forbidden, Gone, NotFound
from libs.common.outbox import enqueue
from libs.common.reports.fields import CATALOGUE, Catalogue
from services.sharing.audit import repository as audit_log
from services.sharing.models import OUTBOX
from services.sharing.vault import repository as vrepo
from services.sharing.vault.domain import NO_SUCH_REPORT, erased_event, meta_of, reader_of
from services.sharing.vault.policy import repository as prepo
from services.sharing.vault.policy.domain import decide
from services.sharing.vault.releases import repository as release_requests

log = logging.getLogger(__name__)

AdminCheck = Callable[[Principal], Awaitable[bool]]


class ReportActions:
    """What only the submitting partner and administrators may do to a report: erase it."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        engine: AsyncEngine,
        *,
        is_admin: AdminCheck,
        wake_relay: Callable[[], None],
        wake_janitor: Callable[[], None] = lambda: None,
        catalogue: Catalogue = CATALOGUE,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.sessions = sessions
        self.engine = engine
        self.is_admin = is_admin
        self.wake_relay = wake_relay
        # The erased report's sealed copy leaves the bus now, whoever has not read it yet.
        self.wake_janitor = wake_janitor
        self.catalogue = catalogue
        self.clock = clock

    async def owned(self, principal: Principal, report_id: str) -> Any:
        """The report row if the caller submitted it or administers the network (else 403/404)."""
        async with self.sessions() as session:
            row = await vrepo.get_report(session, report_id)
            if row is None:
                raise NotFound(NO_SUCH_REPORT)
            if row.partner_id == principal.partner_id or await self.is_admin(principal):
                return row
            # A reader who sees the report learns nothing from a 403; anyone else gets 404.
            reader, cat = reader_of(principal), self.catalogue
            policies = await prepo.policies_for(session, reader.partner, cat)
            grants = await prepo.grants_to(session, reader.partner, [report_id], cat)
        if decide(reader, meta_of(row), policies, grants, catalogue=cat).visible:
            raise Forbidden("only the submitting partner or an administrator may do this")
        raise NotFound(NO_SUCH_REPORT)

    async def erase(self, principal: Principal, report_id: str) -> dict[str, Any]:
        """Crypto-shred a report: every wrapped copy of its data key and its fields go."""
        row = await self.owned(principal, report_id)
        if row.erased_at is not None:
            raise Gone("the report was erased")
        details = {"partner": row.partner_id, "by_partner": principal.partner_id}
        now = await self.shred(report_id, row.partner_id, principal.client_id, details)
        if now is None:
            raise Gone("the report was erased")
        await self.settle()
        return {"report_id": report_id, "erased_at": now.isoformat()}

    async def shred(
        self, report_id: str, partner_id: str, actor: str, details: dict[str, Any]
    ) -> datetime | None:
        """Erase one report in one transaction (tombstone, keys, fields, event, audit entry).

        The one erasure path: a person's request and the retention sweep both come here. None
        if the report was erased already; `settle` afterwards lets the erasure leave the host.
        """
        now = self.clock.now()
        event = erased_event(report_id, partner_id, now)
        async with transaction(self.sessions) as session:
            if not await vrepo.erase(session, report_id, actor, now):
                return None
            await release_requests.withdraw_report(session, report_id, now)
            await enqueue(session, OUTBOX, event)
            await audit_log.append(
                session,
                actor=actor,
                action="report.erase",
                target=report_id,
                details=details,
                now=now,
            )
        log.info("report erased", extra={"report_id": report_id})
        return now

    async def settle(self) -> None:
        """After erasures: publish their events, clear the bus copies, checkpoint the WAL."""
        self.wake_relay()
        self.wake_janitor()
        await self._checkpoint()

    async def _checkpoint(self) -> None:
        # SQLite keeps the pre-erasure pages (wrapped key included) in the WAL until a
        # checkpoint; TRUNCATE copies the zeroed pages home and empties the WAL. Best effort:
        # a busy database is checkpointed by SQLite itself later.
        try:
            await checkpoint_wal(self.engine)
        except Exception as exc:
            log.warning("checkpoint after erasure failed", extra={"reason": type(exc).__name__})
