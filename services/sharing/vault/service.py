"""The vault's reads: every release of report content decided, decrypted and audited here."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.auth.principal import Principal
from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.crypto.encoding import JSONValue
from libs.common.crypto.kek import KekProvider
from libs.common.errors import Gone, NotFound
from libs.common.reports.fields import CATALOGUE, Catalogue
from libs.common.threaded import ThreadTransactions
from services.sharing.audit import repository as audit_log
from services.sharing.vault import repository as vrepo
from services.sharing.vault.crypto import ReportUnreadable, StoredRow, open_fields
from services.sharing.vault.domain import (
    NO_SUCH_REPORT,
    Release,
    Search,
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
        threads: ThreadTransactions | None = None,
    ) -> None:
        self.sessions = sessions
        self.provider = provider
        self.catalogue = catalogue
        self.clock = clock
        # A read is one transaction in a worker thread: its queries, the decryption and the
        # audited release take one event-loop turn, not one (or more) per statement.
        self.threads = threads or ThreadTransactions(sessions)

    async def get(self, principal: Principal, report_id: str) -> dict[str, Any]:
        """One report with the fields the caller may see; 404 if none, 410 once erased."""

        async def read(session: AsyncSession) -> dict[str, Any]:
            view, release = await self._load(session, principal, report_id)
            await self._record(session, principal, [release], via="get")
            return view

        return await self.threads.run(read)

    async def load(self, principal: Principal, report_id: str) -> tuple[dict[str, Any], Release]:
        """Decide and decrypt one report; the caller must `record` it before releasing it."""
        async with self.sessions() as session:
            return await self._load(session, principal, report_id)

    async def _load(
        self, session: AsyncSession, principal: Principal, report_id: str
    ) -> tuple[dict[str, Any], Release]:
        reader, cat = reader_of(principal), self.catalogue
        row = await vrepo.report_to_read(session, report_id)
        if row is None:
            raise NotFound(NO_SUCH_REPORT)
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
        if releases:
            await self.threads.run(
                lambda session: self._record(
                    session,
                    principal,
                    releases,
                    via=via,
                    delivery_id=delivery_id,
                    sealed_to=sealed_to,
                )
            )

    async def _record(
        self,
        session: AsyncSession,
        principal: Principal,
        releases: list[Release],
        *,
        via: str,
        delivery_id: str | None = None,
        sealed_to: str | None = None,
    ) -> None:
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

        async def read(session: AsyncSession) -> tuple[list[Any], list[dict[str, Any]]]:
            rows, items, releases = await self._page(session, principal, search, after, limit)
            await self._record(session, principal, releases, via=via)
            return rows, items

        rows, items = await self.threads.run(read)
        # Stamps follow commit order (`repository.begin_report_write`), so the last row seen is a
        # safe place to resume: nothing can commit behind it later.
        position = (int(rows[-1].updated_us), rows[-1].report_id) if rows else after
        return {
            "reports": items,
            "position": position or (0, ""),
            "has_more": len(rows) == limit,
        }

    async def _page(
        self,
        session: AsyncSession,
        principal: Principal,
        search: Search,
        after: tuple[int, str] | None,
        limit: int,
    ) -> tuple[list[Any], list[dict[str, Any]], list[Release]]:
        """One page's candidate rows, what each item shows, and the releases to record."""
        reader, cat = reader_of(principal), self.catalogue
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
        return rows, items, releases

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
