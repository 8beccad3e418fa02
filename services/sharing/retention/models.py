"""Tables of retention: each partner's periods, and the sweep's last runs."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field

from libs.common.retention import RetentionRunBase
from services.sharing.models import SharingTable


class RetentionPeriod(SharingTable, table=True):
    """How many days a partner's reports of one TLP (`*`: every other TLP) are kept."""

    __tablename__ = "retention_periods"

    partner_id: str = Field(primary_key=True, foreign_key="partners.id", max_length=64)
    tlp: str = Field(primary_key=True, max_length=16)
    days: int
    set_at: datetime
    set_by: str = Field(max_length=128)


class RetentionRun(RetentionRunBase, SharingTable, table=True):
    """The sweep's last run (reports erased, read-log rows pruned)."""

    __tablename__ = "retention_runs"


PERIODS = RetentionPeriod.__table__  # type: ignore[attr-defined]
RUNS = RetentionRun.__table__  # type: ignore[attr-defined]
