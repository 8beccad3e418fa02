"""Release requests: policy decisions for alerts, requests from alerts, the submitter's answer.

Alerts asks two things. At match time, synchronously (`disclose`, over core NATS): which
fields of this report may each organisation's lawyers see by standing policy? That answer has
no side effect. When some fields stay hidden, alerts sends a durable request
(`lifeline.report.release_requested.v1`, `on_requested`): it is recorded and audited, what a
policy allows by now is released at once, and the rest waits for the submitter, who approves
(a per-report grant to that organisation's lawyers) or denies. Each outcome goes back to alerts
as `lifeline.report.released.v1`.
"""

from __future__ import annotations

import functools
import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common import tracing
from libs.common.auth.principal import Principal
from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.contracts import DisclosureAnswer, DisclosureQuery, ReleaseRequested, read_event
from libs.common.db import transaction
from libs.common.errors import Conflict, Gone, InvalidInput, NotFound
from libs.common.events import Envelope, NotYet
from libs.common.inbox import mark_processed
from libs.common.outbox import Unsent, enqueue, outbox_row
from libs.common.paging import split_page
from libs.common.reports.fields import CATALOGUE, Catalogue
from libs.common.threaded import ThreadTransactions
from services.sharing.audit import repository as audit_log
from services.sharing.models import INBOX, OUTBOX
from services.sharing.vault import repository as vrepo
from services.sharing.vault.announce import Announcer
from services.sharing.vault.domain import grant_row, meta_of, new_grant
from services.sharing.vault.erasure import ReportActions
from services.sharing.vault.policy import repository as prepo
from services.sharing.vault.policy.domain import ReportMeta, decide
from services.sharing.vault.releases import repository as repo
from services.sharing.vault.releases.domain import (
    APPROVED,
    DENIED,
    LAWYER,
    PENDING,
    RELEASED,
    lawyer_of,
    ordered,
    released_event,
    split,
)

log = logging.getLogger(__name__)


class Releases:
    """What an organisation's lawyers may see of a report, and the requests to see more."""

    def __init__(
        self,
        threads: ThreadTransactions,
        actions: ReportActions,
        *,
        announcer: Announcer | None = None,
        catalogue: Catalogue = CATALOGUE,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        # The paths alerts waits on (disclosure, release request) run whole in a worker thread;
        # the submitter's and operator's run on the async sessions.
        self.threads = threads
        self.sessions = threads.sessions
        self.actions = actions
        self.wake_relay = actions.wake_relay
        # Shared with the report store: each one's outbox bookkeeping rides the other's commit.
        self.announcer = announcer
        self.catalogue = catalogue
        self.clock = clock

    async def _visible(self, session: AsyncSession, meta: ReportMeta, partner_id: str) -> list[str]:
        if partner_id == meta.partner:
            return list(self.catalogue.grantable)
        cat = self.catalogue
        policies = await prepo.policies_for(session, partner_id, cat)
        grants = await prepo.grants_to(session, partner_id, [meta.report_id], cat)
        decision = decide(lawyer_of(partner_id), meta, policies, grants, catalogue=cat)
        return ordered(decision.fields, cat) if decision.visible else []

    async def disclose(self, query: DisclosureQuery) -> DisclosureAnswer:
        """For each asked organisation, the fields its lawyers may see of the described report."""
        meta = ReportMeta(
            report_id=query.report_id,
            partner=query.partner_id,
            incident_type=query.incident_type,
            legal_basis=query.legal_basis,
            country=query.country,
            tlp=query.tlp,
        )

        async def read(session: AsyncSession) -> dict[str, list[str]]:
            return {org: await self._visible(session, meta, org) for org in set(query.readers)}

        # Asked at every match, a page waiting on it: one worker-thread hop, no write lock.
        return DisclosureAnswer(visible=await self.threads.read(read))

    async def on_requested(self, event: Envelope) -> None:
        """Record a request (once per report and organisation); release what policy allows."""
        data = read_event(event, ReleaseRequested)
        now = self.clock.now()
        written: list[Unsent] = []  # its `report.released`, if policy releases something now
        work = functools.partial(self._requested, event=event, data=data, now=now, written=written)
        if self.announcer is None:
            await self.threads.run(work)
            self.wake_relay()
        else:
            # Sent the moment it commits, not by the relay's read, publish and delete: the
            # outbox row is forgotten in the next store's transaction (`vault/announce.py`).
            await self.announcer.commit_deciding(work, written)
        log.info("release requested", extra={"report_id": data.report_id})

    async def _requested(
        self,
        session: AsyncSession,
        event: Envelope,
        data: ReleaseRequested,
        now: datetime,
        written: list[Unsent],
    ) -> None:
        """The request's transaction: recorded and audited once, what policy allows released."""
        row = await vrepo.get_report(session, data.report_id)
        if row is None:
            # Alerts saw the report before this service stored it: ask again shortly.
            raise NotYet("report not stored yet")
        if not await mark_processed(session, INBOX, event, now):
            return
        if row.erased_at is not None or row.partner_id == data.partner_id:
            return
        visible = await self._visible(session, meta_of(row), data.partner_id)
        now_fields, rest = split(data.fields, visible, self.catalogue)
        values = {
            "id": str(uuid.uuid4()),
            "report_id": data.report_id,
            "submitter_id": row.partner_id,
            "partner_id": data.partner_id,
            "client_id": data.client_id,
            "alert_id": data.alert_id,
            "fields": " ".join(ordered(data.fields, self.catalogue)),
            "status": PENDING if rest else RELEASED,
            "released": " ".join(now_fields),
            "requested_at": now,
        }
        if not await repo.insert(session, values):
            return  # the organisation asked about this report before
        await audit_log.append(
            session,
            actor=data.client_id,
            action="report.release_request",
            target=data.report_id,
            details={
                "request_id": values["id"],
                "partner": data.partner_id,
                "alert_id": data.alert_id,
                "fields": values["fields"].split(),
                "released_by_policy": now_fields,
            },
            now=now,
        )
        if now_fields:
            event_out = released_event(data.report_id, data.partner_id, now_fields, "policy", now)
            out = outbox_row(event_out, tracing.stored())
            if self.announcer is not None:
                self.announcer.claim_written(out, written)
            await session.execute(OUTBOX.insert().values(**out))

    async def listing(
        self,
        principal: Principal,
        status: str | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> tuple[list[dict[str, Any]], tuple[datetime, str] | None]:
        """Requests about the caller's partner's reports (every partner's for an operator),
        newest first, after `after`; and the last one's position when more follow."""
        async with self.sessions() as session:
            everyone = await self.actions.is_admin(principal)
            within = None if everyone else principal.partner_id
            rows = await repo.listing(session, within, status, after, limit + 1)
        rows, more = split_page(rows, limit)
        last = (rows[-1]["requested_at"], rows[-1]["id"]) if more else None
        return [_out(r) for r in rows], last

    async def approve(
        self, principal: Principal, request_id: str, fields: list[str] | None
    ) -> dict[str, Any]:
        """Grant the asking organisation's lawyers the fields (default: all asked for)."""
        request, row = await self._pending(principal, request_id)
        asked, released = request["fields"].split(), request["released"].split()
        chosen = ordered(fields if fields is not None else asked, self.catalogue)
        if fields is not None and (not fields or set(fields) - set(asked)):
            raise InvalidInput(
                "release some of the fields asked for, no others",
                fields=[{"path": "fields", "reason": f"a non-empty subset of {asked}"}],
            )
        now = self.clock.now()
        grant = new_grant(
            row.report_id, request["partner_id"], chosen, LAWYER, catalogue=self.catalogue
        )
        all_released = ordered([*released, *chosen], self.catalogue)
        decided = {
            "status": APPROVED,
            "decided_at": now,
            "decided_by": principal.client_id,
            "grant_id": grant.id,
            "released": " ".join(all_released),
        }
        async with transaction(self.sessions) as session:
            await vrepo.begin_report_write(session)
            if not await repo.settle(session, request_id, decided, was=PENDING):
                raise Conflict("the request was decided meanwhile")
            await prepo.insert_grant(session, grant_row(grant, chosen, principal.client_id, now))
            await vrepo.touch(session, row.report_id, now)
            await self._record(session, principal, request, verb="approve", fields=chosen, now=now)
            event = released_event(
                row.report_id, request["partner_id"], all_released, "approved", now
            )
            await enqueue(session, OUTBOX, event)
        self.wake_relay()
        return _out({**request, **decided})

    async def deny(self, principal: Principal, request_id: str) -> dict[str, Any]:
        """Refuse: the asking organisation keeps what it had (policy releases, if any)."""
        request, row = await self._pending(principal, request_id)
        now = self.clock.now()
        decided = {"status": DENIED, "decided_at": now, "decided_by": principal.client_id}
        async with transaction(self.sessions) as session:
            if not await repo.settle(session, request_id, decided, was=PENDING):
                raise Conflict("the request was decided meanwhile")
            await self._record(session, principal, request, verb="deny", fields=[], now=now)
            released = request["released"].split()
            event = released_event(row.report_id, request["partner_id"], released, "denied", now)
            await enqueue(session, OUTBOX, event)
        self.wake_relay()
        return _out({**request, **decided})

    async def _pending(self, principal: Principal, request_id: str) -> tuple[dict[str, Any], Any]:
        async with self.sessions() as session:
            request = await repo.get(session, request_id)
            # Only the submitter (or an operator) decides; anyone else learns nothing (404).
            if request is None or (
                request["submitter_id"] != principal.partner_id
                and not await self.actions.is_admin(principal)
            ):
                raise NotFound("no such release request")
            row = await vrepo.get_report(session, request["report_id"])
        if row is None or row.erased_at is not None:
            raise Gone("the report was erased")
        if request["status"] != PENDING:
            raise Conflict(f"the request is {request['status']} already")
        return request, row

    async def _record(
        self,
        session: AsyncSession,
        principal: Principal,
        request: dict[str, Any],
        *,
        verb: str,
        fields: list[str],
        now: datetime,
    ) -> None:
        await audit_log.append(
            session,
            actor=principal.client_id,
            action=f"report.release_{verb}",
            target=request["report_id"],
            details={
                "request_id": request["id"],
                "partner": request["partner_id"],
                "fields": fields,
            },
            now=now,
        )


def _out(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "report_id": row["report_id"],
        "partner_id": row["partner_id"],
        "asked_by": row["client_id"],
        "alert_id": row["alert_id"],
        "fields": row["fields"].split(),
        "released": row["released"].split(),
        "status": row["status"],
        "requested_at": row["requested_at"],
        "decided_at": row["decided_at"],
        "decided_by": row["decided_by"],
    }
