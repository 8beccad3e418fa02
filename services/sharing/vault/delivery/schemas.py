"""Request and response bodies of sealed delivery (partners' keys, sharing's signing keys)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, StringConstraints

from services.sharing.vault.schemas import Strict


class DeliveryKeyIn(Strict):
    """A partner's HPKE public key in text form (`hpke-v1:pub:<suite>:<base64url>`)."""

    public_key: Annotated[str, StringConstraints(min_length=1, max_length=4096)]


class DeliveryKeyOut(BaseModel):
    """A registered delivery key."""

    kid: str
    suite: str
    public_key: str
    fingerprint: str
    created_at: datetime
    revoked_at: datetime | None = None


class SigningKeysOut(BaseModel):
    """Sharing's delivery-signing keys (Ed25519): pin one by fingerprint to verify deliveries."""

    keys: list[dict[str, Any]]
