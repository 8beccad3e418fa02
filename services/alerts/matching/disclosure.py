"""What each lawyer's organisation may see of a report, asked of sharing as it is matched.

Sharing holds the policies, so it decides; alerts asks once per matched report (core NATS
request/reply, `libs/common/rpc.py`), for every organisation with a matching entry except the
submitter, which reads its reports in full. No answer in time means nothing is disclosed: the
lawyer is still paged at once, without details, and the release request that follows gets them
whatever a policy allows.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from libs.common import rpc
from libs.common.contracts import (
    DisclosureAnswer,
    DisclosureQuery,
    ReleaseRequested,
    ReportReceived,
    new_event,
)
from libs.common.events import Envelope
from libs.common.runtime import Runtime
from libs.common.subjects import DISCLOSURE_RPC
from services.alerts.alerts.domain import EVERY_DETAIL, asked_for, disclosed_of


@dataclass
class Disclosure:
    """Asks sharing which alert fields each organisation may see."""

    runtime: Runtime
    timeout_s: float

    async def disclosed(self, report: ReportReceived, orgs: Collection[str]) -> dict[str, str]:
        """Organisation → the alert fields (space-separated) its lawyers may see."""
        out = {org: EVERY_DETAIL for org in orgs if org == report.partner_id}
        others = sorted(set(orgs) - set(out))
        if not others:
            return out
        answer = await self._ask(report, others)
        for org in others:
            out[org] = disclosed_of(answer.visible.get(org, [])) if answer else ""
        return out

    async def readable(
        self, report: ReportReceived, orgs: Collection[str]
    ) -> dict[str, frozenset[str]]:
        """Organisation → the report fields (`status`, …) its lawyers may read of `report`;
        `*` stands for every field (the submitter's own lawyers)."""
        out = {org: frozenset({"*"}) for org in orgs if org == report.partner_id}
        others = sorted(set(orgs) - set(out))
        if not others:
            return out
        answer = await self._ask(report, others)
        for org in others:
            out[org] = frozenset(answer.visible.get(org, [])) if answer else frozenset()
        return out

    async def _ask(self, report: ReportReceived, orgs: list[str]) -> DisclosureAnswer | None:
        query = DisclosureQuery(
            report_id=report.report_id,
            partner_id=report.partner_id,
            incident_type=report.incident_type,
            legal_basis=report.legal_basis,
            country=report.country,
            tlp=report.tlp,
            readers=orgs,
        )
        body = await rpc.ask(
            self.runtime.nc,
            DISCLOSURE_RPC,
            query.model_dump_json().encode(),
            timeout=self.timeout_s,
            verifier=self.runtime.verifier,
        )
        if body is None:
            return None
        try:
            return DisclosureAnswer.model_validate_json(body)
        except ValidationError:
            return None


def release_request(
    report: ReportReceived, entry: dict[str, Any], *, alert_id: str, disclosed: str, at: datetime
) -> Envelope:
    """The release request of an alert whose organisation may not see every detail."""
    data = ReleaseRequested(
        report_id=report.report_id,
        partner_id=entry["org_id"],
        client_id=entry["lawyer_id"],
        alert_id=alert_id,
        fields=asked_for(disclosed),
        requested_at=at,
    )
    return new_event(data, "alerts", report.report_id, at=at)
