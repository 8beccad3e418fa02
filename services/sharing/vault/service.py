"""Reading the vault: one report, a policy-filtered list, the read log; every release audited."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.auth.principal import Principal
from libs.common.crypto.encoding import JSONValue
from libs.common.crypto.kek import KekProvider
from libs.common.db import transaction
from libs.common.errors import Gone, NotFound
from libs.common.inbox import utcnow
from services.sharing import audit_log
from services.sharing import repository_policies as prepo
from services.sharing import repository_vault as vrepo
from services.sharing.policy import FIELDS, Decision, candidate_filter, decide
from services.sharing.repository_vault import Search
from services.sharing.vault_crypto import ROUTING_FIELDS, ReportUnreadable, StoredRow, open_fields
from services.sharing.vault_views import (
    decode_cursor,
    encode_cursor,
    meta_of,
    reader_of,
    report_view,
    role_of,
    search_allowed,
    tombstone_view,
)

log = logging.getLogger(__name__)

NO_SUCH_REPORT = "no such report"  # one text for "does not exist" and "not yours to know"


def _wrapped(row: Any) -> bytes | None:
    return None if row.wrapped is None else bytes(row.wrapped)


@dataclass(frozen=True, slots=True)
class Release:
    """One report's content about to be released to a reader (what the audit entry records)."""

    report_id: str
    decision: Decision


class ReadService:
    """Every read of report content goes through here: decide, decrypt, audit, then answer."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        provider: KekProvider,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.provider = provider
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
            row = await vrepo.get_report(session, report_id)
            if row is None:
                raise NotFound(NO_SUCH_REPORT)
            policies = await prepo.policies_for(session, reader.partner)
            grants = await prepo.grants_to(session, reader.partner, [report_id])
            decision = decide(reader, meta_of(row), policies, grants)
            if not decision.visible:
                raise NotFound(NO_SUCH_REPORT)
            if row.erased_at is not None:
                raise Gone("the report was erased")
            blobs = await vrepo.field_blobs(session, [report_id], decision.fields | ROUTING_FIELDS)
        values = self._open(row, _wrapped(row), blobs[report_id], decision)
        return report_view(row, decision, values), Release(report_id, decision)

    def _open(
        self, row: Any, wrapped: bytes | None, blobs: dict[str, bytes], decision: Decision
    ) -> dict[str, JSONValue]:
        try:
            return open_fields(self.provider, StoredRow.of(row), wrapped, blobs, decision.fields)
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
        now, role = self.clock(), role_of(principal)
        rows: list[dict[str, Any]] = []
        for release in releases:
            fields = [f for f in FIELDS if f in release.decision.fields]
            rows.append(
                {
                    "report_id": release.report_id,
                    "reader_partner": principal.org,
                    "reader_client": principal.client_id,
                    "role": role,
                    "fields": " ".join(fields),
                    "via": via,
                    "delivery_id": delivery_id,
                    "read_at": now,
                }
            )
        async with transaction(self.sessions) as session:
            # The read log first: on SQLite that write takes the lock the chain append needs.
            await prepo.log_reads(session, rows)
            for release, row in zip(releases, rows, strict=True):
                details: dict[str, Any] = {
                    "partner": principal.org,
                    "role": role,
                    "fields": str(row["fields"]).split(),
                    "matched": list(release.decision.matched),
                    "via": via,
                }
                if delivery_id is not None:
                    details |= {"delivery_id": delivery_id, "sealed_to": sealed_to}
                await audit_log.append(
                    session,
                    actor=principal.client_id,
                    action="report.read",
                    target=release.report_id,
                    details=details,
                    now=now,
                )

    async def search(
        self, principal: Principal, search: Search, cursor: str | None, limit: int
    ) -> dict[str, Any]:
        """Reports the caller may see, in update order from `cursor`; pre-filtered in SQL."""
        reader = reader_of(principal)
        after = decode_cursor(cursor) if cursor else None
        async with self.sessions() as session:
            policies = await prepo.policies_for(session, reader.partner)
            grants = await prepo.grants_to(session, reader.partner)
            flt = candidate_filter(reader, policies, grants)
            rows = await vrepo.list_candidates(session, flt, search, after, limit)
            by_report = defaultdict(list)
            for grant in grants:
                by_report[grant.report_id].append(grant)
            shown = []
            for row in rows:
                decision = decide(reader, meta_of(row), policies, by_report[row.report_id])
                if decision.visible and search_allowed(search, decision):
                    shown.append((row, decision))
            live = [(r, d) for r, d in shown if r.erased_at is None]
            wanted = frozenset().union(*(d.fields for _, d in live)) | ROUTING_FIELDS
            blobs = await vrepo.field_blobs(session, [r.report_id for r, _ in live], wanted)
        items, releases = [], []
        for row, decision in shown:
            if row.erased_at is not None:
                items.append(tombstone_view(row))
                continue
            try:
                values = self._open(row, _wrapped(row), blobs[row.report_id], decision)
            except ReportUnreadable:
                # One damaged report must not hide the others; it is named, with no content.
                items.append({"report_id": row.report_id, "unreadable": True})
                continue
            items.append(report_view(row, decision, values))
            releases.append(Release(row.report_id, decision))
        await self.record(principal, releases, via="list")
        # Stamps follow commit order (repository_vault.sync_stamp), so the last row seen is a
        # safe place to resume: nothing can commit behind it later.
        position = (int(rows[-1].updated_us), rows[-1].report_id) if rows else after
        return {
            "reports": items,
            "next_cursor": encode_cursor(position or (0, "")),
            "has_more": len(rows) == limit,
        }

    async def reads(
        self, principal: Principal, report_id: str, after: int, limit: int
    ) -> list[dict[str, Any]]:
        """Who read a report of the caller's partner, which fields, when (404 for others)."""
        async with self.sessions() as session:
            row = await vrepo.get_report(session, report_id)
            if row is None or row.partner_id != principal.org:
                raise NotFound(NO_SUCH_REPORT)
            return await prepo.reads_of(session, report_id, after, limit)
