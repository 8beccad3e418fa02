"""Pure rules of release requests: what a policy releases at once, what the submitter decides."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from libs.common.contracts import ReportReleased, new_event
from libs.common.events import Envelope
from libs.common.reports.fields import Catalogue
from services.sharing.vault.policy.domain import Reader

# Whose view a release is decided for: alerts go to lawyers, so an organisation's lawyer policy.
LAWYER = "lawyer"
PENDING, RELEASED, APPROVED, DENIED = "pending", "released", "approved", "denied"


def lawyer_of(partner_id: str) -> Reader:
    """The reader a release to an organisation is decided for."""
    return Reader(partner=partner_id, role=LAWYER)


def ordered(fields: Iterable[str], catalogue: Catalogue) -> list[str]:
    """Grantable fields among `fields`, in catalogue order (unknown names are dropped)."""
    wanted = set(fields)
    return [f for f in catalogue.grantable if f in wanted]


def split(
    asked: Iterable[str], visible: Iterable[str], catalogue: Catalogue
) -> tuple[list[str], list[str]]:
    """(released by policy now, left for the submitter to decide) of the fields asked for."""
    asked_list, seen = ordered(asked, catalogue), set(visible)
    return [f for f in asked_list if f in seen], [f for f in asked_list if f not in seen]


def released_event(
    report_id: str, partner_id: str, fields: list[str], decision: str, now: datetime
) -> Envelope:
    """`lifeline.report.released.v1` for the organisation's alerts about this report."""
    data = ReportReleased(
        report_id=report_id, partner_id=partner_id, fields=fields, decision=decision
    )
    return new_event(data, "sharing", correlation_id=report_id, at=now)
