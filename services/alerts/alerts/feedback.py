"""The false-match figure of an organisation: its resolved alerts by outcome and match strength,
the "not my client" share, and the matches its suppressions kept from alerting."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.auth.principal import Principal
from services.alerts.alerts import suppressions
from services.alerts.alerts.domain import OUTCOMES, false_match_share

STRENGTHS = ("strong", "possible")


class StrengthFigures(BaseModel):
    """Resolved alerts of one match strength."""

    resolved: int
    by_outcome: dict[str, int]
    not_my_client_share: float | None  # None while nothing was resolved


class FeedbackOut(BaseModel):
    """What became of an organisation's alerts, as its lawyers said when resolving them."""

    org_id: str
    since: datetime | None
    resolved: int
    by_outcome: dict[str, int]
    not_my_client_share: float | None
    by_strength: dict[str, StrengthFigures]
    suppressed_matches: int  # reports "not my client" kept from alerting (live suppressions)


def _figures(counts: dict[str, int]) -> StrengthFigures:
    return StrengthFigures(
        resolved=sum(counts.values()),
        by_outcome=counts,
        not_my_client_share=false_match_share(counts),
    )


async def org_feedback(
    sessions: async_sessionmaker[AsyncSession], principal: Principal, since: datetime | None
) -> FeedbackOut:
    """The caller's organisation's figures, over alerts resolved since `since` (all if None)."""
    org = principal.partner_id
    async with sessions() as session:
        rows = await suppressions.resolved_figures(session, org, since)
        kept = await suppressions.suppressed_total(session, org)
    per: dict[str, dict[str, int]] = {s: dict.fromkeys(OUTCOMES, 0) for s in STRENGTHS}
    for r in rows:
        strength = r["decision"] if r["decision"] in per else "possible"
        outcome = r["resolution"]
        per[strength][outcome] = per[strength].get(outcome, 0) + int(r["n"])
    total = {o: sum(per[s].get(o, 0) for s in STRENGTHS) for o in OUTCOMES}
    whole = _figures(total)
    return FeedbackOut(
        org_id=org,
        since=since,
        resolved=whole.resolved,
        by_outcome=total,
        not_my_client_share=whole.not_my_client_share,
        by_strength={s: _figures(per[s]) for s in STRENGTHS},
        suppressed_matches=kept,
    )
