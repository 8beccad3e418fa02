"""Request and response bodies of the retention routes."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from libs.common.reports.vocabulary import Tlp
from libs.common.retention import SweepRun
from services.sharing.retention.domain import MAX_DAYS, Periods

Days = Annotated[int, Field(ge=1, le=MAX_DAYS)]


class PeriodsIn(BaseModel):
    """A partner's periods in days: `days` for every TLP, `tlp` for some (null/empty: the
    network's apply)."""

    model_config = ConfigDict(extra="forbid")

    days: Days | None = None
    tlp: dict[Tlp, Days] = Field(default_factory=dict)

    def periods(self) -> Periods:
        """As the domain holds them."""
        return Periods(self.days, {t.value: d for t, d in self.tlp.items()})


class PeriodsOut(BaseModel):
    """Periods in days; null keeps for ever (or, for a partner's own, defers to the network)."""

    days: int | None
    tlp: dict[str, int]


class PartnerRetention(BaseModel):
    """A partner's own periods and the period each TLP of its reports has."""

    partner_id: str
    own: PeriodsOut
    effective: dict[str, int | None]


class NetworkRetention(BaseModel):
    """The network's report periods, the read log's, the sweep's bounds and its last runs."""

    reports: PeriodsOut
    read_log_days: int | None
    batch: int
    interval_s: float
    sweeps: dict[str, SweepRun]
