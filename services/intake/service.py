"""Intake's use cases: accept a report (validated, sealed, stored with its event) and receipts."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.auth.principal import Principal
from libs.common.clock import Clock
from libs.common.crypto import hpke
from libs.common.crypto.encoding import b64u_encode
from libs.common.errors import Conflict, LifelineError, NotFound
from libs.common.paging import split_page
from libs.common.ratelimit import RateLimiter, ratelimit_headers
from libs.common.reports import ReportIn
from services.intake import repository as repo
from services.intake import wire
from services.intake.followups import check_original
from services.intake.metrics import IntakeMetrics
from services.intake.sealing import SealingKey
from services.intake.writer import BatchWriter

ReceiptStatus = Literal["received", "published", "stored"]


@dataclass
class Intake:
    """Everything a submission needs, passed in explicitly."""

    sessions: async_sessionmaker[AsyncSession]
    sealing_key: SealingKey
    mac_key: bytes
    limiter: RateLimiter
    writer: BatchWriter
    clock: Clock
    metrics: IntakeMetrics = field(default_factory=IntakeMetrics.detached)

    async def submit(self, principal: Principal, report: ReportIn) -> tuple[str, bool]:
        """(report id, created): a retry with the same content gets the first id back."""
        try:
            report_id, created = await self._submit(principal, report)
        except LifelineError:
            self.metrics.outcome("refused")
            raise
        self.metrics.outcome("accepted" if created else "duplicate")
        return report_id, created

    async def _submit(self, principal: Principal, report: ReportIn) -> tuple[str, bool]:
        self.limiter.check(principal.client_id, self.clock.monotonic())
        partner = principal.partner_id
        if report.follows is not None:
            async with self.sessions() as session:
                await check_original(session, partner, report.follows)
        # The report's canonical bytes, made once: MAC'd here, sealed inside the event's body.
        doc, content = wire.canonical(report)
        mac = hmac.new(self.mac_key, partner.encode() + b"\0" + content, hashlib.sha256).hexdigest()
        # No look-up first: a new report (the common case) costs one write transaction; a
        # retry is recognised by the unique (partner, client_report_id) key below.
        key = await self.sealing_key.current()
        report_id, received_at = str(uuid.uuid4()), self.clock.now()
        ids = {"report_id": report_id, "partner_id": partner}
        sealed = hpke.seal(
            key,
            wire.sealed_plaintext(
                content, client_id=principal.client_id, received_at=received_at, **ids
            ),
            hpke.report_seal_info(**ids),
        )
        event_id, payload = wire.received_event(
            doc, received_at=received_at, sealed=b64u_encode(sealed), **ids
        )
        row = {
            "report_id": report_id,
            "partner_id": partner,
            "client_id": principal.client_id,
            "client_report_id": report.client_report_id,
            "content_mac": mac,
            "event_id": event_id,
            "received_at": received_at,
            "follows": report.follows,
        }
        try:
            await self.writer.write(row, event_id, payload)
        except IntegrityError:
            # A concurrent submission with the same client report id won the race.
            async with self.sessions() as session:
                earlier = await repo.find_submission(session, partner, report.client_report_id)
            if earlier is None:
                raise
            return _same_or_conflict(earlier, mac)
        return report_id, True

    def rate_headers(self, principal: Principal) -> dict[str, str]:
        """The RateLimit headers of the caller's submissions, as they stand now."""
        quota = self.limiter.quota(principal.client_id, self.clock.monotonic())
        return ratelimit_headers([quota])

    async def receipt(self, principal: Principal, report_id: str) -> dict[str, Any]:
        """Progress of a report of the caller's partner; someone else's is simply not found."""
        async with self.sessions() as session:
            row = await repo.receipt(session, report_id, principal.partner_id)
        if row is None:
            raise NotFound("no such report")
        return _with_status(row)

    async def receipts(
        self, principal: Principal, before: tuple[datetime, str] | None, limit: int
    ) -> tuple[list[dict[str, Any]], tuple[datetime, str] | None]:
        """The receipts of the caller's partner's reports, newest first, after `before`; and
        the last one's position when more follow."""
        async with self.sessions() as session:
            rows = await repo.receipts(session, principal.partner_id, before, limit + 1)
        rows, more = split_page(rows, limit)
        last = (rows[-1]["received_at"], rows[-1]["report_id"]) if more else None
        return [_with_status(row) for row in rows], last

    async def receipt_position(
        self, principal: Principal, report_id: str
    ) -> tuple[datetime, str] | None:
        """Where a report of the caller's partner sits in its receipts (a deprecated `before`)."""
        async with self.sessions() as session:
            return await repo.receipt_position(session, principal.partner_id, report_id)


def _with_status(row: dict[str, Any]) -> dict[str, Any]:
    status: ReceiptStatus = "received"
    if row["stored_at"] is not None:
        status = "stored"
    elif row["published_at"] is not None:
        status = "published"
    return {**row, "status": status}


def _same_or_conflict(earlier: tuple[str, str], mac: str) -> tuple[str, bool]:
    report_id, earlier_mac = earlier
    if not hmac.compare_digest(earlier_mac, mac):
        raise Conflict("client_report_id was already used for a report with other content")
    return report_id, False
