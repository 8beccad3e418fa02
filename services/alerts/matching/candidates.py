"""A report's candidates: the entries it matches, and those no "not my client" holds back."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.contracts import ReportReceived
from services.alerts.alerts import suppressions
from services.alerts.alerts.domain import EscalationPolicy, person_key
from services.alerts.delivery.profiles import repository as profiles
from services.alerts.matching import repository as repo
from services.alerts.matching.domain import Verdict, judge
from services.alerts.watchlists.domain import EntryRule, decode_tokens

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    """An entry the report matches, with what paging its lawyer needs."""

    entry: dict[str, Any]
    verdict: Verdict
    policy: EscalationPolicy
    contacts: list[RowMapping]
    person: str  # `alerts.domain.person_key` of the report for this entry


async def found(session: AsyncSession, report: ReportReceived) -> dict[str, Candidate]:
    """The entries the report matches under their rules, with what paging each lawyer needs."""
    values = [t.value for t in report.tokens]
    found = await repo.candidates(session, values, report.report_id)
    tokens = decode_tokens(report.tokens)
    out: dict[str, Candidate] = {}
    for entry_id, entry in found.entries.items():
        rule = EntryRule.from_columns(
            entry["incident_types"], entry["legal_bases"], entry["countries"]
        )
        verdict = judge(
            found.sets.get(entry_id, []),
            tokens,
            rule,
            incident_type=report.incident_type,
            legal_basis=report.legal_basis,
            country=report.country,
        )
        if verdict is None:
            continue
        contacts, policy = await profiles.paging_view(session, entry["lawyer_id"], entry["org_id"])
        person = person_key(values, found.held.get(entry_id, ()))
        out[entry_id] = Candidate({**entry, "id": entry_id}, verdict, policy, contacts, person)
    return out


async def unsuppressed(
    session: AsyncSession,
    report: ReportReceived,
    found: dict[str, Candidate],
    now: datetime,
) -> dict[str, Candidate]:
    """The candidates whose lawyer did not say "not my client" of this report's person; a
    match a suppression keeps from alerting is counted on it."""
    if not found:
        return found
    held = await suppressions.active(session, found)
    for entry_id in sorted(found):
        suppression = held.get((entry_id, found[entry_id].person))
        if suppression is not None:
            await suppressions.count(session, suppression, now)
            log.info(
                "match suppressed",
                extra={"report_id": report.report_id, "reason": "not_my_client"},
            )
            del found[entry_id]
    return found
