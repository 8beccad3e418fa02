"""The vault's use cases: reads (every release audited) and erasure."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from libs.common.auth.principal import Principal
from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.crypto.encoding import JSONValue
from libs.common.crypto.kek import KekProvider
from libs.common.db import checkpoint_wal, transaction
from libs.common.errors import Forbidden, Gone, NotFound
from libs.common.outbox import enqueue
from libs.common.reports.fields import CATALOGUE, Catalogue
from services.sharing.audit import repository as audit_log
from services.sharing.models import OUTBOX
from services.sharing.vault import repository as vrepo
from services.sharing.vault.crypto import ReportUnreadable, StoredRow, open_fields
from services.sharing.vault.domain import (
    NO_SUCH_REPORT,
    Release,
    Search,
    erased_event,
    meta_of,
    read_audit_details,
    read_log_rows,
    reader_of,
    report_view,
    search_hits,
    tombstone_view,
    wrapped_key,
)
from services.sharing.vault.policy import repository as prepo
from services.sharing.vault.policy.domain import (
    Decision,
    candidate_filter,
    decide,
)
from services.sharing.vault.releases import repository as release_requests

log = logging.getLogger(__name__)

AdminCheck = Callable[[Principal], Awaitable[bool]]


class ReadService:
    """Every read of report content goes through here: decide, decrypt, audit, then answer."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        provider: KekProvider,
        *,
        catalogue: Catalogue = CATALOGUE,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.sessions = sessions
        self.provider = provider
        self.catalogue = catalogue
        self.clock = clock

    async def get(self, principal: Principal, report_id: str) -> dict[str, Any]:
        """One report with the fields the caller may see; 404 if none, 410 once erased."""
        view, release = await self.load(principal, report_id)
        await self.record(principal, [release], via="get")
        return view

    async def load(self, principal: Principal, report_id: str) -> tuple[dict[str, Any], Release]:
        """Decide and decrypt one report; the caller must `record` it before releasing it."""
        reader = reader_of(principal)
        async with self.sessions() as session:
            row = await vrepo.report_to_read(session, report_id)
            if row is None:
                raise NotFound(NO_SUCH_REPORT)
            cat = self.catalogue
            policies = await prepo.policies_for(session, reader.partner, cat)
            grants = await prepo.grants_to(session, reader.partner, [report_id], cat)
            decision = decide(reader, meta_of(row), policies, grants, catalogue=cat)
            if not decision.visible:
                raise NotFound(NO_SUCH_REPORT)
            if row.erased_at is not None:
                raise Gone("the report was erased")
            blobs = await vrepo.field_blobs(session, [report_id], decision.fields | cat.routing)
            follow_ups = await vrepo.follow_ups_of(session, report_id, row.partner_id)
        values = self._open(row, wrapped_key(row), blobs[report_id], decision)
        view = report_view(row, decision, values, catalogue=cat)
        # Whom a lawyer calls about this report: the reporting partner's own contact line.
        view["partner_contact"] = row.partner_contact
        view["follow_ups"] = follow_ups
        return view, Release(report_id, decision)

    def _open(
        self, row: Any, wrapped: bytes | None, blobs: dict[str, bytes], decision: Decision
    ) -> dict[str, JSONValue]:
        try:
            return open_fields(
                self.provider,
                StoredRow.of(row),
                wrapped,
                blobs,
                decision.fields,
                catalogue=self.catalogue,
            )
        except ReportUnreadable as exc:
            failure = exc
        log.error(
            "stored report failed its integrity check",
            extra={"report_id": row.report_id, "reason": failure.reason},
        )
        raise failure

    async def record(
        self,
        principal: Principal,
        releases: list[Release],
        *,
        via: str,
        delivery_id: str | None = None,
        sealed_to: str | None = None,
    ) -> None:
        """Append the read log and the audit chain; nothing is released if this fails."""
        if not releases:
            return
        now = self.clock.now()
        rows = read_log_rows(
            principal, releases, via=via, delivery_id=delivery_id, now=now, catalogue=self.catalogue
        )
        entries = [
            audit_log.NewEntry(
                principal.client_id,
                "report.read",
                release.report_id,
                read_audit_details(principal, release, row, sealed_to=sealed_to),
            )
            for release, row in zip(releases, rows, strict=True)
        ]
        async with transaction(self.sessions) as session:
            await vrepo.log_reads(session, rows)
            await audit_log.append_many(session, entries, now)

    async def search(
        self,
        principal: Principal,
        search: Search,
        after: tuple[int, str] | None,
        limit: int,
        *,
        via: str = "list",
    ) -> dict[str, Any]:
        """Reports the caller may see, in update order after the (updated, id) position `after`;
        pre-filtered in SQL. `via` names the read in the log (a listing, an export)."""
        reader = reader_of(principal)
        cat = self.catalogue
        async with self.sessions() as session:
            policies = await prepo.policies_for(session, reader.partner, cat)
            grants = await prepo.grants_to(session, reader.partner, catalogue=cat)
            flt = candidate_filter(reader, policies, grants)
            rows = await vrepo.list_candidates(session, flt, search, after, limit)
            shown = search_hits(reader, rows, policies, grants, search, catalogue=cat)
            live = [(r, d) for r, d in shown if r.erased_at is None]
            wanted = frozenset().union(*(d.fields for _, d in live)) | cat.routing
            blobs = await vrepo.field_blobs(session, [r.report_id for r, _ in live], wanted)
        items, releases = [], []
        for row, decision in shown:
            if row.erased_at is not None:
                items.append(tombstone_view(row))
                continue
            try:
                values = self._open(row, wrapped_key(row), blobs[row.report_id], decision)
            except ReportUnreadable:
                # One damaged report must not hide the others; it is named, with no content.
                items.append({"report_id": row.report_id, "unreadable": True})
                continue
            items.append(report_view(row, decision, values, catalogue=cat))
            releases.append(Release(row.report_id, decision))
        await self.record(principal, releases, via=via)
        # Stamps follow commit order (`repository.begin_report_write`), so the last row seen is a
        # safe place to resume: nothing can commit behind it later.
        position = (int(rows[-1].updated_us), rows[-1].report_id) if rows else after
        return {
            "reports": items,
            "position": position or (0, ""),
            "has_more": len(rows) == limit,
        }

    async def reads(
        self, principal: Principal, report_id: str, after: int, limit: int
    ) -> list[dict[str, Any]]:
        """Who read a report of the caller's partner, which fields, when (404 for others)."""
        async with self.sessions() as session:
            row = await vrepo.get_report(session, report_id)
            if row is None or row.partner_id != principal.partner_id:
                raise NotFound(NO_SUCH_REPORT)
            rows = await vrepo.reads_of(session, report_id, after, limit)
        return [{**r, "fields": r["fields"].split()} for r in rows]


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
