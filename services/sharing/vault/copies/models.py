"""The one table of the bus copies: where each stored report's sealed copy sits in its stream."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlmodel import Field

from services.sharing.models import SharingTable

_BIGINT = BigInteger().with_variant(Integer, "sqlite")


class BusCopy(SharingTable, table=True):
    """A `report.received` message the vault stored, not yet erased from its stream."""

    __tablename__ = "vault_bus_copies"

    # `LIFELINE_RECEIVED`, or `LIFELINE_REPORTS` for a copy published before the move.
    stream: str = Field(primary_key=True, max_length=32)
    stream_seq: int = Field(
        primary_key=True, sa_type=_BIGINT, sa_column_kwargs={"autoincrement": False}
    )
    report_id: str = Field(max_length=36, index=True)


BUS_COPIES = BusCopy.__table__  # type: ignore[attr-defined]
