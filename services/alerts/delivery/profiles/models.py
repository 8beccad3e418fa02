"""Tables of how people are reached: contacts (channel endpoints) and organisations' timing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, LargeBinary, Text
from sqlmodel import Field

from services.alerts.models import AlertsTable


class Organisation(AlertsTable, table=True):
    """Escalation timing of one organisation (N, M, repeats); its duty contacts are contacts."""

    __tablename__ = "organisations"

    org_id: str = Field(primary_key=True, max_length=128)
    escalate_after_min: int
    duty_after_min: int
    repeat_every_min: int
    max_repeats: int
    updated_at: datetime
    updated_by: str = Field(max_length=128)


class Contact(AlertsTable, table=True):
    """One channel endpoint: a lawyer's webhook/email, a backup contact or an org duty contact."""

    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_org_role", "org_id", "role"),)

    id: str = Field(primary_key=True, max_length=36)
    org_id: str = Field(max_length=128)
    lawyer_id: str | None = Field(default=None, max_length=128, index=True)
    role: str = Field(max_length=16)  # primary | secondary | backup | duty
    channel: str = Field(max_length=16)  # a registered channel kind (delivery/channels)
    address: str = Field(max_length=2048)
    name: str | None = Field(default=None, max_length=100)
    # A channel's signing secret, AES-GCM encrypted with a key kept in the data directory.
    secret: bytes | None = Field(default=None, sa_type=LargeBinary)
    pgp_key: str | None = Field(default=None, sa_type=Text)
    position: int = 0
    # The rota member (index) a duty contact belongs to; None: a static duty contact.
    rota_member: int | None = None
    disabled_at: datetime | None = None
    disabled_reason: str | None = Field(default=None, max_length=64)
    # The last test alert sent to it: one per contact per `TEST_EVERY_S` (across replicas).
    tested_at: datetime | None = None
    created_at: datetime
    # Health (`delivery/health`): written by the worker as each attempt ends, never a body.
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_failure: str | None = Field(default=None, max_length=64)
    consecutive_failures: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    key_expires_at: datetime | None = None  # of `pgp_key`, read when the key is saved
    # The problem the lawyer was last warned of; cleared when the contact works again.
    warned_problem: str | None = Field(default=None, max_length=16)


CONTACTS = Contact.__table__  # type: ignore[attr-defined]
ORGS = Organisation.__table__  # type: ignore[attr-defined]
