"""Matching a received report against every watchlist: alerts, grouping, and the first page.

A report's token values are first looked up in the index (for a whole fetched batch at once:
`consumer.received_batch_handler`); one that names nobody only gets its inbox row. One that hits
gets one transaction: the inbox row, its candidates, the rule, and for each matching entry the
(report, entry) row and a new or updated alert. A new alert's first page is created claimed and
handed to this process's delivery worker: no claim round trip before the lawyer's webhook.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common import tracing
from libs.common.clock import Clock
from libs.common.contracts import ReportReceived
from libs.common.events import Envelope
from libs.common.inbox import mark_processed
from libs.common.outbox import outbox_row, unsent
from libs.common.publisher import Publisher
from libs.common.sql import is_postgres
from libs.common.threaded import InThread
from services.alerts.alerts.domain import (
    EVERY_DETAIL,
    AlertStatus,
    Audience,
    escalation_plan,
    step_due,
)
from services.alerts.delivery import jobs
from services.alerts.delivery.domain import SendContext, send_context
from services.alerts.delivery.rows import Claim
from services.alerts.matching import candidates
from services.alerts.matching import repository as repo
from services.alerts.matching.candidates import Candidate
from services.alerts.matching.disclosure import release_request
from services.alerts.matching.domain import (
    Priority,
    alert_summary,
    same_incident_since,
    stronger,
)
from services.alerts.metrics import AlertsMetrics
from services.alerts.models import INBOX

log = logging.getLogger(__name__)
# Send contexts of first pages created here already claimed (see `DeliveryWorker.submit`).
Handoff = Callable[[Sequence[SendContext]], None]
# Organisation → the alert fields its lawyers may see of a report (`disclosure.Disclosure`).
Disclose = Callable[[ReportReceived, Collection[str]], Awaitable[dict[str, str]]]


@dataclass
class Matcher:
    """Turns `report.received` into alerts (one per report and entry) and their first pages."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Clock
    # Escalation settings are minutes of this many seconds (60 but where a test shrinks it).
    minute_s: float
    claim: Claim
    handoff: Handoff
    disclose: Disclose
    # Wakes the outbox relay once a release request is committed.
    wake_relay: Callable[[], None]
    # A follow-up updates the alerts of its original: the entries those alerts are about
    # (`followups.service.FollowUps.apply`); None where follow-ups are not wired (tests).
    follow_up: Callable[[ReportReceived], Awaitable[set[str]]] | None = None
    metrics: AlertsMetrics = field(default_factory=AlertsMetrics.detached)
    # Runs a match's transaction in a worker thread (`Runtime.threads.run`).
    in_thread: InThread = field(kw_only=True)
    # Runs the index read in a worker thread (`ThreadTransactions.read`); None: on an async session.
    read: InThread | None = field(default=None, kw_only=True)
    # Publishes release requests right after the commit; None: the relay does (`wake_relay`).
    releases: Publisher | None = field(default=None, kw_only=True)

    async def on_received(self, event: Envelope, report: ReportReceived) -> int:
        """Match one report; returns how many new alerts it created. Idempotent by event id."""
        updated: set[str] = set()
        if report.follows is not None and self.follow_up is not None:
            # Idempotent by (alert, follow-up) itself; runs before the inbox row is written.
            updated = await self.follow_up(report)
        # Almost every report names nobody on a watchlist: one index read and the inbox row.
        hits = await self.hits([t.value for t in report.tokens])
        if not hits:
            await self.mark_seen([event])
            return 0
        return await self.match(event, report, hits, exclude=updated)

    async def match(
        self,
        event: Envelope,
        report: ReportReceived,
        hits: Mapping[str, Collection[str]],
        exclude: Collection[str] = (),
        disclosed: dict[str, str] | None = None,
    ) -> int:
        """Match a report whose tokens hit the index (`hits`: value → organisations, see
        `hits`): alerts and first pages; an entry in `exclude` (updated by the follow-up
        already) gets no new alert. `disclosed`: `disclosed(report, hits)` if asked already."""
        if disclosed is None:
            disclosed = await self.disclosed(report, hits)
        now = self.clock.now()

        claimed: list[str] = []  # release requests kept from the relay until sent

        async def write(session: AsyncSession) -> tuple[list[SendContext], list[dict[str, Any]]]:
            given = {"exclude": exclude, "disclosed": disclosed, "now": now, "claimed": claimed}
            return await self._write(session, event, report, **given)

        # The whole transaction (inbox row, candidates, alert, first pages) in one worker
        # thread: one hop instead of one per statement; the event is acked after it commits.
        try:
            created, requested = await self.in_thread(write)
        except BaseException:
            if self.releases is not None:
                self.releases.release(claimed)
            raise
        if requested and self.releases is not None:
            await self.releases.publish([unsent(r) for r in requested])
        elif requested:
            self.wake_relay()
        if created:
            self.metrics.await_first_pages({c.alert_id for c in created}, report.received_at)
            self.handoff(created)
        return len({c.alert_id for c in created})

    async def _write(
        self, session: AsyncSession, event: Envelope, report: ReportReceived, **given: Any
    ) -> tuple[list[SendContext], list[dict[str, Any]]]:
        """The match's transaction (`given`: exclude, disclosed, now, claimed): send contexts
        of new first pages, the outbox rows of release requests queued."""
        exclude, disclosed, now = given["exclude"], given["disclosed"], given["now"]
        created: list[SendContext] = []
        requested: list[dict[str, Any]] = []
        if not await mark_processed(session, INBOX, event, now):
            return created, requested
        found = await candidates.found(session, report)
        found = {k: v for k, v in found.items() if k not in exclude}
        found = await candidates.unsuppressed(session, report, found, now)
        live = set(found)
        if found and is_postgres(session):
            live = await repo.lock_live(session, found)
        for entry_id in sorted(live):
            candidate = found[entry_id]
            shown = disclosed.get(candidate.entry["org_id"], "")
            pages, asked = await self._record(session, report, candidate, shown, now)
            created += pages
            requested += asked
        if requested and self.releases is not None:
            given["claimed"].extend(r["event_id"] for r in requested)
            self.releases.claim(given["claimed"])  # before the commit: the relay never sees them
        return created, requested

    async def disclosed(
        self, report: ReportReceived, hits: Mapping[str, Collection[str]]
    ) -> dict[str, str]:
        """What the organisations holding the report's hits may see of it (asked of sharing
        before the write transaction, which must not wait on another service)."""
        return await self.disclose(
            report, {o for t in report.tokens for o in hits.get(t.value, ())}
        )

    async def mark_seen(self, events: list[Envelope]) -> None:
        """Record events that matched nobody as handled (one statement, in a worker thread)."""
        now = self.clock.now()
        await self.in_thread(lambda session: repo.mark_seen(session, events, now))

    async def hits(self, values: list[str]) -> dict[str, set[str]]:
        """The token values that some live watchlist entry holds → those entries' organisations."""
        if self.read is None:
            async with self.sessions() as session:
                return await repo.hit_orgs(session, values)
        return dict(await self.read(lambda session: repo.hit_orgs(session, values)))

    async def _record(
        self,
        session: AsyncSession,
        report: ReportReceived,
        found: Candidate,
        disclosed: str,
        now: datetime,
    ) -> tuple[list[SendContext], list[dict[str, Any]]]:
        """Create or join the alert of (report, entry): send contexts of a new one's pages, and
        the outbox row of the release request queued (if any)."""
        entry, verdict = found.entry, found.verdict
        hidden = disclosed != EVERY_DETAIL
        summary = alert_summary(report, verdict, disclosed)
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
            "person": found.person,
            **summary,
        }
        if not await repo.insert_match(session, match_row):
            return [], []
        asked = []
        if hidden:
            # Ask the submitter for what the organisation may not see (same transaction).
            request = release_request(report, entry, alert_id=alert_id, disclosed=disclosed, at=now)
            asked = [outbox_row(request, tracing.stored())]
            await repo.insert_outbox(session, asked[0])
        release = {"release": "requested" if hidden else None}
        if group is not None:
            # The same detention reported again: update the alert, do not page again.
            summary["priority"] = stronger(group["priority"], summary["priority"])
            if group["decision"] == "strong":
                summary.update(decision="strong")
            await repo.attach_report(
                session, alert_id, {**summary, **release, "report_id": report.report_id}, now
            )
            return [], asked
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
            **release,
            "case_status": None,
        }
        await repo.insert_alert(session, alert)
        # A detention on an interstate search or Interpol request (and a strong match) is the
        # case where hours decide extradition: every channel the lawyer has, at once.
        urgent = verdict.priority is Priority.HIGHEST
        first = jobs.targets(found.contacts, [], 0, {Audience.LAWYER}, every_channel=urgent)
        pages = await jobs.insert_pages(session, alert_id, first, step=0, now=now, claim=self.claim)
        log.info("alert created", extra={"alert_id": alert_id, "report_id": report.report_id})
        contexts = [
            send_context(row, alert, dict(contact), entry["label"], contact["language"])
            for row, contact in pages
        ]
        return contexts, asked
