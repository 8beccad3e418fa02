"""The OPRF quota's table: evaluations counted per client and per partner in fixed windows."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer
from sqlmodel import Field

from services.sharing.models import SharingTable


class PrfUsage(SharingTable, table=True):
    """Elements evaluated by one client or partner in one hour or day window (UTC epoch start)."""

    __tablename__ = "prf_usage"

    scope: str = Field(primary_key=True, max_length=8)
    subject: str = Field(primary_key=True, max_length=128)
    span: str = Field(primary_key=True, max_length=8)
    window_start: int = Field(
        primary_key=True, sa_type=BigInteger().with_variant(Integer, "sqlite")
    )
    used: int = Field(default=0, sa_type=BigInteger().with_variant(Integer, "sqlite"))
    # Set once the bulk-use alarm fired for this window, so it fires once per window.
    alarmed: bool = Field(default=False)


PRF_USAGE = PrfUsage.__table__  # type: ignore[attr-defined]
