"""Pure rules of alerting: entry rules, priority, grouping, escalation plan, retry schedule.

No I/O here: the worker, the scheduler and the delivery loop call these with plain values.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Final

from libs.common.crypto.encoding import b64u_decode
from libs.common.crypto.errors import InvalidKey
from libs.common.identity.canonical import Kind
from libs.common.identity.match import Decision, Match, match
from libs.common.identity.tokens import Token
from libs.common.reports import IdentityToken, IncidentType, LegalBasis


class Priority(StrEnum):
    """How urgently an alert must reach a human."""

    HIGHEST = "highest"
    HIGH = "high"
    NORMAL = "normal"


class AlertStatus(StrEnum):
    """Where an alert stands."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    WITHDRAWN = "withdrawn"


# The default: what gets a client extradited, on any legal basis.
DEFAULT_INCIDENT_TYPES: Final = frozenset(
    {
        IncidentType.DETENTION,
        IncidentType.EXTRADITION_REQUEST,
        IncidentType.EXTRADITION_DECISION,
        IncidentType.DEPORTATION,
        IncidentType.ABDUCTION,
    }
)
# Arrests on these happen automatically, with no check of political motivation.
HIGHEST_PRIORITY_BASES: Final = frozenset(
    {
        LegalBasis.CIS_INTERSTATE_SEARCH,
        LegalBasis.INTERPOL_RED_NOTICE,
        LegalBasis.INTERPOL_DIFFUSION,
    }
)
GROUP_WINDOW: Final = timedelta(hours=72)
_DELIVERY_NAMESPACE: Final = uuid.UUID("6f1c2d0e-8a4b-5c3d-9e7f-1a2b3c4d5e6f")


@dataclass(frozen=True)
class EntryRule:
    """Which reports about an entry alert: incident types, legal bases, countries (empty = any)."""

    incident_types: frozenset[str] = DEFAULT_INCIDENT_TYPES
    legal_bases: frozenset[str] = frozenset()
    countries: frozenset[str] = frozenset()

    def applies(self, incident_type: str, legal_basis: str, country: str) -> bool:
        """True when a report with this routing metadata should alert."""
        return (
            incident_type in self.incident_types
            and (not self.legal_bases or legal_basis in self.legal_bases)
            and (not self.countries or country in self.countries)
        )

    def columns(self) -> dict[str, str]:
        """Storage form (sorted, comma-separated)."""
        return {
            "incident_types": ",".join(sorted(self.incident_types)),
            "legal_bases": ",".join(sorted(self.legal_bases)),
            "countries": ",".join(sorted(self.countries)),
        }

    @classmethod
    def from_columns(cls, incident_types: str, legal_bases: str, countries: str) -> EntryRule:
        """Inverse of `columns`."""
        return cls(_split(incident_types), _split(legal_bases), _split(countries))


def _split(text: str) -> frozenset[str]:
    return frozenset(part for part in text.split(",") if part)


def priority(decision: Decision | str, legal_basis: str) -> Priority:
    """Interstate search / Interpol → highest (high if the match is only possible)."""
    strong = decision == Decision.STRONG
    if legal_basis in HIGHEST_PRIORITY_BASES:
        return Priority.HIGHEST if strong else Priority.HIGH
    return Priority.HIGH if strong else Priority.NORMAL


_RANK: Final = {Priority.NORMAL: 0, Priority.HIGH: 1, Priority.HIGHEST: 2}


def stronger(a: str, b: str) -> str:
    """The higher of two priorities."""
    return a if _RANK[Priority(a)] >= _RANK[Priority(b)] else b


def decode_tokens(tokens: Iterable[IdentityToken]) -> list[Token]:
    """Identity tokens as the match rule reads them; kinds it does not know are ignored."""
    out = []
    for token in tokens:
        try:
            out.append(Token(Kind(token.kind), token.version, b64u_decode(token.value)))
        except (ValueError, InvalidKey):
            continue
    return out


def valid_watchlist_tokens(tokens: Sequence[IdentityToken]) -> bool:
    """A watchlist entry needs tokens the match rule understands (64-byte values, known kinds)."""
    decoded = decode_tokens(tokens)
    return len(decoded) == len(tokens) and all(len(t.value) == 64 for t in decoded)


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
    if result.decision == Decision.NONE:
        return None
    if not rule.applies(incident_type, legal_basis, country):
        return None
    return Verdict(result, priority(result.decision, legal_basis))


def same_incident_since(received_at: datetime) -> datetime:
    """Alerts created after this time about the same entry, type and country are the same case."""
    return received_at - GROUP_WINDOW


# --- escalation --------------------------------------------------------------------------


class Audience(StrEnum):
    """Who an escalation step reaches."""

    LAWYER = "lawyer"
    BACKUP = "backup"
    DUTY = "duty"


@dataclass(frozen=True)
class EscalationPolicy:
    """Per organisation: re-notify + backups after N, duty after M, repeats capped."""

    escalate_after_min: int = 10
    duty_after_min: int = 30
    repeat_every_min: int = 15
    max_repeats: int = 4


@dataclass(frozen=True)
class Step:
    """One escalation step: minutes after the alert, and who is paged."""

    offset_min: int
    audiences: frozenset[Audience]


def escalation_plan(policy: EscalationPolicy) -> tuple[Step, ...]:
    """Steps after the first page (step 0); each reaches everyone reached so far and more."""
    n, m = policy.escalate_after_min, policy.duty_after_min
    marks = sorted({n, m})
    steps: list[Step] = []
    reached: set[Audience] = {Audience.LAWYER}
    for offset in marks:
        if offset == n:
            reached.add(Audience.BACKUP)
        if offset == m:
            reached.add(Audience.DUTY)
        steps.append(Step(offset, frozenset(reached)))
    last = marks[-1]
    for k in range(1, policy.max_repeats + 1):
        steps.append(Step(last + k * policy.repeat_every_min, frozenset(reached)))
    return tuple(steps)


def step_due(
    created_at: datetime, plan: Sequence[Step], step: int, minute_s: float
) -> datetime | None:
    """When step `step` (1-based) of the plan is due, or None after the last one."""
    if step > len(plan):
        return None
    return created_at + timedelta(seconds=plan[step - 1].offset_min * minute_s)


# --- delivery ----------------------------------------------------------------------------


def delivery_id(alert_id: str, step: int, channel: str, contact_id: str) -> str:
    """The delivery key (alert, step, channel, endpoint) as a stable id; also the webhook-id."""
    return str(uuid.uuid5(_DELIVERY_NAMESPACE, f"{alert_id}:{step}:{channel}:{contact_id}"))


ACK_NOTICE_STEP: Final = 1_000  # ack notices get their own key space, one per contact
WITHDRAWAL_STEP: Final = 1_001  # so do withdrawal notices
# Notices tell what became of an alert; unlike pages they go out whatever its status.
NOTICE_KINDS: Final = ("ack_notice", "withdrawal")


def retry_delay(
    failures: int,
    schedule: Sequence[float],
    jitter: float,
    *,
    retry_after: float | None = None,
    rng: random.Random | None = None,
    cap: float = 3600.0,
) -> float:
    """Seconds until the next attempt after `failures` failed ones (1-based); jittered."""
    base = schedule[min(failures, len(schedule)) - 1]
    spread = (rng or random).uniform(1 - jitter, 1 + jitter)  # jitter, not a secret
    delay = base * spread
    if retry_after is not None:
        # The receiver said when it can take the message again: never sooner than that.
        delay = max(delay, retry_after)
    return min(delay, cap)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds from a `Retry-After` header (delta-seconds or HTTP date); None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - now).total_seconds())
