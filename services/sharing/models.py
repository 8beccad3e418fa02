"""Tables of the sharing service (its own database; no other service reads them)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import registry
from sqlmodel import Field, SQLModel

from libs.common.inbox import DeadLetterBase, ProcessedEventBase
from libs.common.outbox import OutboxBase


class SharingTable(SQLModel, registry=registry()):
    """Base of every sharing table: its own metadata, so services never share a schema."""


class ProcessedEvent(ProcessedEventBase, SharingTable, table=True):
    """Events this service has handled: redeliveries are skipped by event id."""

    __tablename__ = "processed_events"


class DeadLetter(DeadLetterBase, SharingTable, table=True):
    """Messages this service could never process, kept for inspection and replay."""

    __tablename__ = "dead_letters"


class Outbox(OutboxBase, SharingTable, table=True):
    """Events (revocations) written with the change they announce, relayed to JetStream."""

    __tablename__ = "outbox"


class Partner(SharingTable, table=True):
    """A partner organisation (an NGO, or the operator running the network)."""

    __tablename__ = "partners"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    status: str = Field(max_length=16)  # active | disabled
    is_operator: bool = False
    created_at: datetime
    disabled_at: datetime | None = None


class ApiClient(SharingTable, table=True):
    """A program acting for a partner: a submitter, a lawyer's app, an admin console."""

    __tablename__ = "api_clients"

    id: str = Field(primary_key=True, max_length=64)
    partner_id: str = Field(foreign_key="partners.id", index=True, max_length=64)
    name: str = Field(max_length=200)
    scopes: str = Field(max_length=256)  # space-separated, sorted
    status: str = Field(max_length=16)  # active | revoked
    created_at: datetime
    revoked_at: datetime | None = None


class ClientKey(SharingTable, table=True):
    """An Ed25519 public key a client proves possession of; kid = its RFC 7638 thumbprint."""

    __tablename__ = "client_keys"

    kid: str = Field(primary_key=True, max_length=64)
    client_id: str = Field(foreign_key="api_clients.id", index=True, max_length=64)
    public_jwk: str = Field(max_length=512)
    status: str = Field(max_length=16)  # active | revoked
    not_before: datetime
    not_after: datetime
    created_at: datetime
    revoked_at: datetime | None = None


class AssertionJti(SharingTable, table=True):
    """Client-assertion ids seen, kept until the assertion expires, so a replay is refused."""

    __tablename__ = "assertion_jtis"

    client_id: str = Field(primary_key=True, max_length=128)
    jti: str = Field(primary_key=True, max_length=256)
    expires_at: datetime = Field(index=True)


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
    details: str
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class Lease(SharingTable, table=True):
    """A named lease: periodic jobs that must run on one replica at a time hold one."""

    __tablename__ = "leases"

    name: str = Field(primary_key=True, max_length=64)
    holder: str = Field(max_length=64)
    expires_at: datetime


OUTBOX = Outbox.__table__  # type: ignore[attr-defined]
PARTNERS = Partner.__table__  # type: ignore[attr-defined]
CLIENTS = ApiClient.__table__  # type: ignore[attr-defined]
CLIENT_KEYS = ClientKey.__table__  # type: ignore[attr-defined]
ASSERTION_JTIS = AssertionJti.__table__  # type: ignore[attr-defined]
AUDIT_LOG = AuditEntry.__table__  # type: ignore[attr-defined]
LEASES = Lease.__table__  # type: ignore[attr-defined]

metadata = SharingTable.metadata

# The vault's tables derive from SharingTable, so they are imported last to complete `metadata`.
from services.sharing import models_vault  # noqa: E402, F401
