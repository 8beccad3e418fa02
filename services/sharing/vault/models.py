"""Tables of the vault: encrypted reports, their field ciphertexts, wrapped data keys, reads.

What is in clear here is what already travels in clear in `lifeline.report.received.v1` (ids,
routing metadata) plus timestamps and key ids; every report field is stored only as a field
ciphertext (`vault_fields`), and the data key only wrapped by a KEK (`vault_data_keys`).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field

from services.sharing.models import SharingTable

_BIGINT = BigInteger().with_variant(Integer, "sqlite")


class VaultReport(SharingTable, table=True):
    """One stored report: routing metadata in clear, the rest in `vault_fields`."""

    __tablename__ = "vault_reports"
    __table_args__ = (
        UniqueConstraint("partner_id", "client_report_id", name="uq_vault_reports_client"),
        Index("ix_vault_reports_updated", "updated_us", "report_id"),
        Index("ix_vault_reports_received", "received_at"),
    )

    report_id: str = Field(primary_key=True, max_length=36)
    partner_id: str = Field(max_length=64, index=True)
    client_report_id: str = Field(max_length=128)
    event_id: str = Field(max_length=64, unique=True)
    incident_type: str = Field(max_length=32)
    legal_basis: str = Field(max_length=32)
    country: str = Field(max_length=2)
    facility_kind: str = Field(max_length=32)
    tlp: str = Field(max_length=16)
    occurred_on: date
    received_at: datetime
    stored_at: datetime
    # Microseconds since the epoch: the sync cursor's order, the same on SQLite and PostgreSQL.
    updated_us: int = Field(sa_type=_BIGINT)
    # The sealing key the report arrived under (hex key id): tells when an old one is drained.
    sealed_kid: str = Field(max_length=32, index=True)
    data_key_id: str = Field(max_length=36)
    # The KEK version bound into every field's AAD when the fields were encrypted. Immutable:
    # rotation rewraps the data key (vault_data_keys.kek_version), never re-encrypts fields.
    field_kek_version: int
    field_format: int
    # The report field catalogue's version when it was stored: which fields have a blob. A
    # field added to the catalogue later reads as absent (null) here, never as tampering.
    catalogue_version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    erased_at: datetime | None = None
    erased_by: str | None = Field(default=None, max_length=128)
    # A follow-up's earlier report of the same partner (intake checked it): the case's chain.
    follows: str | None = Field(default=None, max_length=64, index=True)


class VaultField(SharingTable, table=True):
    """One field ciphertext; the AAD is rebuilt from the report row, never stored."""

    __tablename__ = "vault_fields"

    report_id: str = Field(primary_key=True, max_length=36, foreign_key="vault_reports.report_id")
    field: str = Field(primary_key=True, max_length=32)
    ciphertext: bytes = Field(sa_type=LargeBinary)


class VaultDataKey(SharingTable, table=True):
    """A report's data key wrapped under a KEK version; deleting it crypto-shreds the report."""

    __tablename__ = "vault_data_keys"

    data_key_id: str = Field(primary_key=True, max_length=36)
    report_id: str = Field(max_length=36, index=True, foreign_key="vault_reports.report_id")
    kek_version: int = Field(index=True)
    wrapped: bytes = Field(sa_type=LargeBinary)
    created_at: datetime
    rewrapped_at: datetime | None = None


class VaultRead(SharingTable, table=True):
    """Who read which fields of a report, when: the submitter's read log (ids only)."""

    __tablename__ = "vault_reads"
    __table_args__ = (Index("ix_vault_reads_read_at", "read_at"),)

    id: int | None = Field(
        default=None,
        primary_key=True,
        sa_type=_BIGINT,
        sa_column_kwargs={"autoincrement": True},
    )
    report_id: str = Field(max_length=36, index=True)
    reader_partner: str = Field(max_length=64)
    reader_client: str = Field(max_length=128)
    role: str = Field(max_length=32)
    fields: str = Field(sa_type=Text)
    via: str = Field(max_length=16)  # get | list | sealed
    delivery_id: str | None = Field(default=None, max_length=36, unique=True)
    read_at: datetime


REPORTS = VaultReport.__table__  # type: ignore[attr-defined]
FIELDS = VaultField.__table__  # type: ignore[attr-defined]
DATA_KEYS = VaultDataKey.__table__  # type: ignore[attr-defined]
READS = VaultRead.__table__  # type: ignore[attr-defined]
