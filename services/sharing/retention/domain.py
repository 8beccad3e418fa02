"""Pure rules of retention: which period a report has, what counts as shortening one."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from libs.common.reports.vocabulary import Tlp

# The row key of a partner's period for every TLP it does not name.
ANY_TLP = "*"
MAX_DAYS = 36_500
TLPS: tuple[str, ...] = tuple(t.value for t in Tlp)
# Audited as the actor of what the network's own policy does (no person asked for it).
RETENTION_ACTOR = "retention"
REASON = "retention"


@dataclass(frozen=True)
class Periods:
    """Days a report is kept: in general (`days`) and per TLP (`tlp`); None keeps for ever."""

    days: int | None = None
    tlp: Mapping[str, int] = field(default_factory=dict)

    def of(self, tlp: str) -> int | None:
        """This level's period for a TLP, or None when it says nothing about it."""
        return self.tlp.get(tlp, self.days)

    def as_dict(self) -> dict[str, object]:
        """`{"days": …, "tlp": {…}}` as the API shows it."""
        return {"days": self.days, "tlp": dict(sorted(self.tlp.items()))}

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, int]]) -> Periods:
        """From stored `(tlp or ANY_TLP, days)` rows."""
        pairs = dict(rows)
        general = pairs.pop(ANY_TLP, None)
        return cls(general, pairs)

    def rows(self) -> list[tuple[str, int]]:
        """As stored: `(tlp or ANY_TLP, days)`."""
        general = [] if self.days is None else [(ANY_TLP, self.days)]
        return general + sorted(self.tlp.items())


NONE = Periods()


def effective(partner: Periods, network: Periods) -> dict[str, int | None]:
    """Each TLP's period for one partner: its own setting first, then the network's.

    Within a level the TLP's own period wins over the general one; the partner's level wins
    over the network's, so an administrator sets a partner exactly, whatever the defaults.
    """
    out: dict[str, int | None] = {}
    for tlp in TLPS:
        own = partner.of(tlp)
        out[tlp] = own if own is not None else network.of(tlp)
    return out


def shortens(before: Mapping[str, int | None], after: Mapping[str, int | None]) -> bool:
    """Whether a change makes any TLP's reports expire sooner (a new period counts)."""
    for tlp in TLPS:
        new = after.get(tlp)
        old = before.get(tlp)
        if new is not None and (old is None or new < old):
            return True
    return False


@dataclass(frozen=True)
class Expiry:
    """Reports of one partner and TLP received before `cutoff` are past their period."""

    partner_id: str
    tlp: str
    days: int
    cutoff: datetime


def expiries(
    partners: Iterable[str],
    own: Mapping[str, Periods],
    network: Periods,
    now: datetime,
) -> list[Expiry]:
    """The cut-off of every (partner, TLP) that has a period, as of `now`."""
    out = []
    for partner in sorted(partners):
        for tlp, days in effective(own.get(partner, NONE), network).items():
            if days is not None:
                out.append(Expiry(partner, tlp, days, now - timedelta(days=days)))
    return out


def cutoff(days: int | None, now: datetime) -> datetime | None:
    """What was made before this is past a period of `days` (None: kept for ever)."""
    return None if days is None else now - timedelta(days=days)


@dataclass(frozen=True)
class SweepLimits:
    """The network's periods and how much one run may do."""

    reports: Periods
    read_log_days: int | None
    batch: int
    interval_s: float
