"""Matching a received report against every watchlist: alerts, grouping, and the first page.

A report's token values are first looked up in the index (for a whole fetched batch at once:
`consumer.received_batch_handler`); one that names nobody only gets its inbox row. One that hits
gets one transaction: the inbox row, its candidates, the rule, and for each matching entry the
(report, entry) row and a new or updated alert. The first page of a new
alert is created already claimed and handed to the delivery worker in this process: no claim
round trip between a report arriving and the lawyer's webhook being called.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.clock import Clock
from libs.common.contracts import ReportReceived
from libs.common.db import transaction
from libs.common.events import Envelope
from libs.common.inbox import mark_processed
from libs.common.sql import is_postgres
from services.alerts.alerts.domain import (
    AlertStatus,
    Audience,
    EscalationPolicy,
    escalation_plan,
    step_due,
)
from services.alerts.delivery import jobs
from services.alerts.delivery.domain import SendContext, send_context
from services.alerts.delivery.profiles import repository as profiles
from services.alerts.matching import repository as repo
from services.alerts.matching.domain import Priority, Verdict, judge, same_incident_since, stronger
from services.alerts.models import INBOX
from services.alerts.watchlists.domain import EntryRule, decode_tokens

log = logging.getLogger(__name__)
# Send contexts of first pages created here already claimed (see `DeliveryWorker.submit`).
Handoff = Callable[[Sequence[SendContext]], None]


def _occurred(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


@dataclass(frozen=True)
class Candidate:
    """An entry the report matches, with what paging its lawyer needs."""

    entry: dict[str, Any]
    verdict: Verdict
    policy: EscalationPolicy
    contacts: list[RowMapping]


@dataclass
class Matcher:
    """Turns `report.received` into alerts (one per report and entry) and their first pages."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    # Escalation settings are minutes of this many seconds (60 but where a test shrinks it).
    minute_s: float
    claim: jobs.Claim
    handoff: Handoff

    async def on_received(self, event: Envelope, report: ReportReceived) -> int:
        """Match one report; returns how many new alerts it created. Idempotent by event id."""
        # Almost every report names nobody on a watchlist: one index read and the inbox row.
        if not await self.hits([t.value for t in report.tokens]):
            await self.mark_seen([event])
            return 0
        return await self.match(event, report)

    async def match(self, event: Envelope, report: ReportReceived) -> int:
        """Match a report whose tokens hit the index (see `hits`): alerts and first pages."""
        created: list[SendContext] = []
        now = self.clock.now()
        async with transaction(self.sessions) as session:
            if not await mark_processed(session, INBOX, event, now):
                return 0
            found = await self._candidates(session, report)
            if not found:
                return 0
            live = set(found)
            if is_postgres(session):
                live = await repo.lock_live(session, found)
            for entry_id in sorted(live):
                created += await self._record(session, report, found[entry_id], now)
        if created:
            self.handoff(created)
        return len({c.alert_id for c in created})

    async def mark_seen(self, events: list[Envelope]) -> None:
        """Record events that matched nobody as handled."""
        async with transaction(self.sessions) as session:
            await repo.mark_seen(session, events, self.clock.now())

    async def hits(self, values: list[str]) -> set[str]:
        """The token values that some watchlist entry holds."""
        async with self.sessions() as session:
            return await repo.hit_values(session, values)

    async def _candidates(
        self, session: AsyncSession, report: ReportReceived
    ) -> dict[str, Candidate]:
        entries, sets = await repo.candidates(
            session, [t.value for t in report.tokens], report.report_id
        )
        tokens = decode_tokens(report.tokens)
        out: dict[str, Candidate] = {}
        for entry_id, entry in entries.items():
            rule = EntryRule.from_columns(
                entry["incident_types"], entry["legal_bases"], entry["countries"]
            )
            verdict = judge(
                sets.get(entry_id, []),
                tokens,
                rule,
                incident_type=report.incident_type,
                legal_basis=report.legal_basis,
                country=report.country,
            )
            if verdict is None:
                continue
            contacts, policy = await profiles.paging_view(
                session, entry["lawyer_id"], entry["org_id"]
            )
            out[entry_id] = Candidate({**entry, "id": entry_id}, verdict, policy, contacts)
        return out

    async def _record(
        self, session: AsyncSession, report: ReportReceived, found: Candidate, now: datetime
    ) -> list[SendContext]:
        """Create or join the alert of (report, entry); send contexts of a new one's pages."""
        entry, verdict = found.entry, found.verdict
        summary = {
            "decision": verdict.match.strength.value,
            "reason": verdict.match.reason[:200],
            "agreed": verdict.agreed,
            "priority": verdict.priority.value,
            "incident_type": report.incident_type.value,
            "legal_basis": report.legal_basis.value,
            "country": report.country,
            "facility_kind": report.facility_kind.value,
            "occurred_at": _occurred(report.occurred_at),
        }
        group = await repo.open_group(
            session,
            entry["id"],
            report.incident_type.value,
            report.country,
            same_incident_since(report.received_at),
        )
        alert_id = group["id"] if group else str(uuid.uuid4())
        # The (report, entry) key: a pair seen before (another event, same report) changes nothing.
        match_row = {
            "report_id": report.report_id,
            "entry_id": entry["id"],
            "alert_id": alert_id,
            "received_at": report.received_at,
            "created_at": now,
            **summary,
        }
        if not await repo.insert_match(session, match_row):
            return []
        if group is not None:
            # The same detention reported again: update the alert, do not page again.
            summary["priority"] = stronger(group["priority"], summary["priority"])
            if group["decision"] == "strong":
                summary.update(decision="strong")
            await repo.attach_report(
                session, alert_id, {**summary, "report_id": report.report_id}, now
            )
            return []
        plan = escalation_plan(found.policy)
        alert = {
            "id": alert_id,
            "lawyer_id": entry["lawyer_id"],
            "org_id": entry["org_id"],
            "entry_id": entry["id"],
            "status": AlertStatus.OPEN.value,
            "report_id": report.report_id,
            "report_count": 1,
            "created_at": now,
            "updated_at": now,
            "step": 0,
            "next_step_at": step_due(now, plan, 1, self.minute_s),
            "acked_by": None,
            "acked_at": None,
            **summary,
        }
        await repo.insert_alert(session, alert)
        # A detention on an interstate search or Interpol request (and a strong match) is the
        # case where hours decide extradition: every channel the lawyer has, at once.
        urgent = verdict.priority is Priority.HIGHEST
        first = jobs.targets(found.contacts, [], 0, {Audience.LAWYER}, every_channel=urgent)
        pages = await jobs.insert_pages(session, alert_id, first, step=0, now=now, claim=self.claim)
        log.info("alert created", extra={"alert_id": alert_id, "report_id": report.report_id})
        return [send_context(row, alert, dict(contact), entry["label"]) for row, contact in pages]
