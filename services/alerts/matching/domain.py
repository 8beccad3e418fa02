"""Pure rules of matching: the verdict on a report and an entry, its priority, grouping.

No I/O here: the matcher calls these with plain values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from libs.common.contracts import ReportReceived
from libs.common.identity.match import Match, Strength, match
from libs.common.identity.tokenvalue import Token
from libs.common.reports import LegalBasis
from services.alerts.watchlists.domain import EntryRule


class Priority(StrEnum):
    """How urgently an alert must reach a human."""

    HIGHEST = "highest"
    HIGH = "high"
    NORMAL = "normal"


# Arrests on these happen automatically, with no check of political motivation.
HIGHEST_PRIORITY_BASES: Final = frozenset(
    {
        LegalBasis.CIS_INTERSTATE_SEARCH,
        LegalBasis.INTERPOL_RED_NOTICE,
        LegalBasis.INTERPOL_DIFFUSION,
    }
)
GROUP_WINDOW: Final = timedelta(hours=72)


def priority(decision: Strength | str, legal_basis: str) -> Priority:
    """Interstate search / Interpol → highest (high if the match is only possible)."""
    strong = decision == Strength.STRONG
    if legal_basis in HIGHEST_PRIORITY_BASES:
        return Priority.HIGHEST if strong else Priority.HIGH
    return Priority.HIGH if strong else Priority.NORMAL


_RANK: Final = {Priority.NORMAL: 0, Priority.HIGH: 1, Priority.HIGHEST: 2}


def stronger(a: str, b: str) -> str:
    """The higher of two priorities."""
    return a if _RANK[Priority(a)] >= _RANK[Priority(b)] else b


@dataclass(frozen=True)
class Verdict:
    """Why a report alerts about an entry."""

    match: Match
    priority: Priority

    @property
    def agreed(self) -> str:
        """The token kinds that agreed, for storage and the alert payload."""
        return ",".join(sorted(k.value for k in self.match.agreed))


def judge(
    entry_tokens: Iterable[Token],
    report_tokens: Iterable[Token],
    rule: EntryRule,
    *,
    incident_type: str,
    legal_basis: str,
    country: str,
) -> Verdict | None:
    """The identity match rule on the full token sets, then the entry's rule; None = no alert."""
    result = match(entry_tokens, report_tokens)
    if result.strength == Strength.NONE:
        return None
    if not rule.applies(incident_type, legal_basis, country):
        return None
    return Verdict(result, priority(result.strength, legal_basis))


def same_incident_since(received_at: datetime) -> datetime:
    """Alerts created after this time about the same entry, type and country are the same case."""
    return received_at - GROUP_WINDOW


def _occurred(value: object) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def alert_summary(report: ReportReceived, verdict: Verdict, disclosed: str) -> dict[str, Any]:
    """The columns a match and its alert carry of the verdict and the report's routing data."""
    return {
        "decision": verdict.match.strength.value,
        "reason": verdict.match.reason[:200],
        "agreed": verdict.agreed,
        "priority": verdict.priority.value,
        "incident_type": report.incident_type.value,
        "legal_basis": report.legal_basis.value,
        "country": report.country,
        "facility_kind": report.facility_kind.value,
        "occurred_at": _occurred(report.occurred_at),
        "disclosed": disclosed,
    }
