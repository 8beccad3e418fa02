"""Tables of the access context: partners, API clients, their keys, assertion ids seen."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field

from services.sharing.models import SharingTable


class Partner(SharingTable, table=True):
    """A partner organisation (an NGO, or the operator running the network)."""

    __tablename__ = "partners"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    status: str = Field(max_length=16)  # active | disabled
    is_operator: bool = False
    created_at: datetime
    disabled_at: datetime | None = None
    # How a lawyer reaches this partner about its reports; plain text, shown to readers.
    lawyer_contact: str | None = Field(default=None, max_length=200)


class ApiClient(SharingTable, table=True):
    """A program acting for a partner: a submitter, a lawyer's app, an admin console."""

    __tablename__ = "api_clients"

    id: str = Field(primary_key=True, max_length=64)
    partner_id: str = Field(foreign_key="partners.id", index=True, max_length=64)
    name: str = Field(max_length=200)
    role: str = Field(max_length=32)  # libs.common.auth.roles.Role; bounds `scopes`
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
    status: str = Field(max_length=16)  # pending (enrolled, unconfirmed) | active | revoked
    device_name: str | None = Field(default=None, max_length=200)
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


PARTNERS = Partner.__table__  # type: ignore[attr-defined]
CLIENTS = ApiClient.__table__  # type: ignore[attr-defined]
CLIENT_KEYS = ClientKey.__table__  # type: ignore[attr-defined]
ASSERTION_JTIS = AssertionJti.__table__  # type: ignore[attr-defined]
