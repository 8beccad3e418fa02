"""The rota table: one per organisation; its members' contacts are `contacts` rows (role duty)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Text
from sqlmodel import Field

from services.alerts.models import AlertsTable


class RotaRow(AlertsTable, table=True):
    """An organisation's weekly rotation; members and overrides are short JSON lists."""

    __tablename__ = "rotas"

    org_id: str = Field(primary_key=True, max_length=128)
    time_zone: str = Field(max_length=64)
    weekday: int  # of the hand-over, 0 = Monday
    handover: str = Field(max_length=5)  # local wall time, "HH:MM"
    starts_on: date
    # [{"name": str | null}] in rotation order; a member's contacts carry its index.
    members: str = Field(sa_type=Text)
    # [{"member": int, "starts_at": iso, "ends_at": iso}], never overlapping.
    overrides: str = Field(sa_type=Text)
    updated_at: datetime
    updated_by: str = Field(max_length=128)


ROTAS = RotaRow.__table__  # type: ignore[attr-defined]
