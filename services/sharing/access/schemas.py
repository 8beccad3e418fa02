"""Request and response bodies of the registry's admin API and the bootstrap."""

from __future__ import annotations

import unicodedata
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from libs.common.auth.jwk import ed25519_fingerprint, public_key_line, stored_public_key
from libs.common.auth.roles import Role
from libs.common.auth.scopes import Scope
from services.sharing.access.domain import DEFAULT_KEY_VALIDITY_DAYS, MAX_KEY_VALIDITY_DAYS
from services.sharing.access.rows import ClientRow, KeyRow, PartnerRow

# Display names: printable, one line. They are stored, never logged.
Name = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=200, pattern=r"^[^\x00-\x1f\x7f]+$"
    ),
]
Id = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._~:-]+$")]
# Unicode categories refused in the contact line: control, format, separators other than space.
_NOT_TEXT = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
# A public key as `ed25519:<x>` or a public JWK (object, or JSON text).
PublicKeyInput = str | dict[str, Any]
ValidDays = Annotated[int, Field(ge=1, le=MAX_KEY_VALIDITY_DAYS)]


class Strict(BaseModel):
    """Unknown fields are an error, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


class PartnerCreate(Strict):
    """A new partner organisation."""

    name: Name


class PartnerOut(BaseModel):
    """A partner organisation."""

    id: str
    name: str
    status: str
    is_operator: bool
    created_at: datetime
    disabled_at: datetime | None
    lawyer_contact: str | None

    @classmethod
    def of(cls, row: PartnerRow) -> PartnerOut:
        """From a stored partner."""
        return cls(
            id=row.id,
            name=row.name,
            status=row.status,
            is_operator=row.is_operator,
            created_at=row.created_at,
            disabled_at=row.disabled_at,
            lawyer_contact=row.lawyer_contact,
        )


class PartnerContact(Strict):
    """The partner's contact line for lawyers: one line of plain text; null or "" clears it."""

    lawyer_contact: str | None = Field(max_length=200)

    @field_validator("lawyer_contact")
    @classmethod
    def _plain_text(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        if any(unicodedata.category(ch) in _NOT_TEXT for ch in value):
            # Control and format characters (newlines, ESC, bidi overrides) could forge what
            # a console or a terminal shows around the line.
            raise ValueError("only printable text, on one line")
        return value or None


class ClientCreate(Strict):
    """A new API client of a partner: its role, and the scopes (within the role) it may request."""

    partner_id: Id
    name: Name
    role: Role
    scopes: list[Scope] = Field(min_length=1, max_length=len(Scope))


class ClientOut(BaseModel):
    """An API client."""

    id: str
    partner_id: str
    name: str
    role: str
    scopes: list[str]
    status: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: ClientRow) -> ClientOut:
        """From a stored client."""
        return cls(
            id=row.id,
            partner_id=row.partner_id,
            name=row.name,
            role=row.role,
            scopes=sorted(row.scopes),
            status=row.status,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
        )


class KeyCreate(Strict):
    """A client's Ed25519 public key to register, and how long it stays valid."""

    public_key: PublicKeyInput
    valid_days: ValidDays = DEFAULT_KEY_VALIDITY_DAYS


class KeyRotate(KeyCreate):
    """The replacement key; the old one is revoked now, or expires after a grace period."""

    old_key_grace_seconds: int = Field(default=0, ge=0, le=7 * 86400)


class KeyOut(BaseModel):
    """A registered client key (public material only)."""

    kid: str
    client_id: str
    public_key: str
    fingerprint: str
    status: str  # pending (enrolled, awaiting confirmation) | active | revoked
    usable: bool
    device_name: str | None
    not_before: datetime
    not_after: datetime
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: KeyRow, now: datetime) -> KeyOut:
        """From a stored key, with whether it can sign assertions at `now`."""
        public_key = stored_public_key(row.public_jwk)
        return cls(
            kid=row.kid,
            client_id=row.client_id,
            public_key=public_key_line(public_key),
            fingerprint=ed25519_fingerprint(public_key),
            status=row.status,
            usable=row.usable_at(now),
            device_name=row.device_name,
            not_before=row.not_before,
            not_after=row.not_after,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
        )


class KeyRotated(BaseModel):
    """The key registered in place of the old one, and the old one's new state."""

    new: KeyOut
    old: KeyOut


class BootstrapRequest(Strict):
    """The first administrator: the one-time secret from sharing's data dir and a public key."""

    secret: str = Field(min_length=1, max_length=256)
    public_key: PublicKeyInput
    organisation: Name = "Network operator"
    client_name: Name = "Administrator"
    valid_days: ValidDays = DEFAULT_KEY_VALIDITY_DAYS


class Bootstrapped(BaseModel):
    """What the bootstrap created."""

    partner: PartnerOut
    client: ClientOut
    key: KeyOut
