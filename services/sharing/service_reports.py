"""What a submitting partner (or an administrator) does to a stored report: grant it, erase it."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from libs.common.auth.principal import Principal
from libs.common.db import is_sqlite, transaction
from libs.common.errors import Forbidden, Gone, InvalidInput, NotFound
from libs.common.events import REPORT_ERASED, new_event
from libs.common.inbox import utcnow
from libs.common.outbox import enqueue
from services.sharing import audit_log
from services.sharing import repository_policies as prepo
from services.sharing import repository_registry as registry
from services.sharing import repository_vault as vrepo
from services.sharing.models import OUTBOX
from services.sharing.policy import FIELDS, ReportGrant, decide
from services.sharing.service_reads import NO_SUCH_REPORT
from services.sharing.vault_views import meta_of, reader_of

log = logging.getLogger(__name__)

AdminCheck = Callable[[Principal], Awaitable[bool]]


class ReportActions:
    """Per-report grants and erasure, allowed to the submitting partner and administrators."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        engine: AsyncEngine,
        *,
        is_admin: AdminCheck,
        wake_relay: Callable[[], None],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.engine = engine
        self.is_admin = is_admin
        self.wake_relay = wake_relay
        self.clock = clock

    async def _owned(self, principal: Principal, report_id: str) -> Any:
        """The report row if the caller submitted it or administers the network."""
        async with self.sessions() as session:
            row = await vrepo.get_report(session, report_id)
            if row is None:
                raise NotFound(NO_SUCH_REPORT)
            if row.partner_id == principal.org or await self.is_admin(principal):
                return row
            # A reader who sees the report learns nothing from a 403; anyone else gets 404.
            reader = reader_of(principal)
            policies = await prepo.policies_for(session, reader.partner)
            grants = await prepo.grants_to(session, reader.partner, [report_id])
        if decide(reader, meta_of(row), policies, grants).visible:
            raise Forbidden("only the submitting partner or an administrator may do this")
        raise NotFound(NO_SUCH_REPORT)

    async def grant(
        self,
        principal: Principal,
        report_id: str,
        *,
        partner_id: str,
        fields: list[str],
        role: str | None,
    ) -> dict[str, Any]:
        """Give one partner (optionally one role) these fields of this report, RED included."""
        row = await self._owned(principal, report_id)
        if row.erased_at is not None:
            raise Gone("the report was erased")
        if partner_id == row.partner_id:
            raise InvalidInput(
                "the submitting partner already reads its reports in full",
                fields=[{"path": "partner_id", "reason": "is the submitter"}],
            )
        grant = ReportGrant(
            id=str(uuid.uuid4()),
            report_id=report_id,
            partner=partner_id,
            fields=frozenset(fields),
            role=role,
        )
        ordered = [f for f in FIELDS if f in grant.fields]
        now = self.clock()
        async with self.sessions() as session:
            if await registry.get_partner(session, partner_id) is None:
                raise InvalidInput(
                    "no such partner", fields=[{"path": "partner_id", "reason": "unknown"}]
                )
        values = {
            "id": grant.id,
            "report_id": report_id,
            "partner_id": partner_id,
            "role": role,
            "fields": " ".join(ordered),
            "created_at": now,
            "created_by": principal.client_id,
        }
        async with transaction(self.sessions) as session:
            await vrepo.begin_report_write(session)
            await prepo.insert_grant(session, values)
            # The report's visibility changed: move it up the sync order for the grantee.
            await vrepo.touch(session, report_id, now)
            await audit_log.append(
                session,
                actor=principal.client_id,
                action="report.grant",
                target=report_id,
                details={
                    "grant_id": grant.id,
                    "partner": partner_id,
                    "role": role,
                    "fields": ordered,
                },
                now=now,
            )
        return {**values, "fields": ordered, "created_at": now.isoformat()}

    async def grants(self, principal: Principal, report_id: str) -> list[dict[str, Any]]:
        """The per-report grants of a report (submitter and administrators only)."""
        await self._owned(principal, report_id)
        async with self.sessions() as session:
            rows = await prepo.grants_of_report(session, report_id)
        return [{**r, "fields": r["fields"].split()} for r in rows]

    async def erase(self, principal: Principal, report_id: str) -> dict[str, Any]:
        """Crypto-shred a report: every wrapped copy of its data key and its fields go."""
        row = await self._owned(principal, report_id)
        if row.erased_at is not None:
            raise Gone("the report was erased")
        now = self.clock()
        event = new_event(
            REPORT_ERASED,
            "sharing",
            {"report_id": report_id, "partner_id": row.partner_id},
            correlation_id=report_id,
        )
        async with transaction(self.sessions) as session:
            if not await vrepo.erase(session, report_id, principal.client_id, now):
                raise Gone("the report was erased")
            await enqueue(session, OUTBOX, event)
            await audit_log.append(
                session,
                actor=principal.client_id,
                action="report.erase",
                target=report_id,
                details={"partner": row.partner_id, "by_partner": principal.org},
                now=now,
            )
        self.wake_relay()
        await self._checkpoint()
        log.info("report erased", extra={"report_id": report_id})
        return {"report_id": report_id, "erased_at": now.isoformat()}

    async def _checkpoint(self) -> None:
        # SQLite keeps the pre-erasure pages (wrapped key included) in the WAL until a
        # checkpoint; TRUNCATE copies the zeroed pages home and empties the WAL. Best effort:
        # a busy database is checkpointed by SQLite itself later.
        if not is_sqlite(str(self.engine.url)):
            return
        try:
            async with self.engine.connect() as conn:
                await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        except Exception as exc:
            log.warning("checkpoint after erasure failed", extra={"reason": type(exc).__name__})
