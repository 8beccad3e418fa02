"""The audit log's table: one hash-chained entry per audited action."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, Text
from sqlmodel import Field

from services.sharing.models import SharingTable


class AuditEntry(SharingTable, table=True):
    """One hash-chained audit entry; `at` and `details` are stored as the exact hashed text."""

    __tablename__ = "audit_log"

    seq: int = Field(
        primary_key=True,
        sa_type=BigInteger().with_variant(Integer, "sqlite"),
        sa_column_kwargs={"autoincrement": False},
    )
    at: str = Field(max_length=32)
    actor: str = Field(max_length=128)
    action: str = Field(max_length=64)
    target: str = Field(max_length=128)
    details: str = Field(sa_type=Text)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


AUDIT_LOG = AuditEntry.__table__  # type: ignore[attr-defined]
