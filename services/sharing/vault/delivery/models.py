"""The table of sealed delivery: the HPKE public keys partners register."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field

from services.sharing.models import SharingTable


class DeliveryKey(SharingTable, table=True):
    """A public key a partner registered for sealed deliveries."""

    __tablename__ = "vault_partner_hpke_keys"

    kid: str = Field(primary_key=True, max_length=32)  # base64url of the 16-byte key id
    partner_id: str = Field(max_length=64, index=True)
    suite: str = Field(max_length=32)
    public_key: str = Field(sa_type=Text)
    fingerprint: str = Field(max_length=80)
    created_at: datetime
    created_by: str = Field(max_length=128)
    revoked_at: datetime | None = None


DELIVERY_KEYS = DeliveryKey.__table__  # type: ignore[attr-defined]
