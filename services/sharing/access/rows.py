"""The registry's rows as the use cases see them: partners, API clients, client keys."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Row

from libs.common.auth.scopes import parse_scope
from libs.common.clock import as_utc
from services.sharing.access.domain import KeyStatus


def _opt_utc(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


@dataclass(frozen=True, slots=True)
class PartnerRow:
    """A partner as stored."""

    id: str
    name: str
    status: str
    is_operator: bool
    created_at: datetime
    disabled_at: datetime | None
    lawyer_contact: str | None = None

    @classmethod
    def of(cls, row: Row[Any]) -> PartnerRow:
        """From a `partners` row."""
        return cls(
            row.id,
            row.name,
            row.status,
            bool(row.is_operator),
            as_utc(row.created_at),
            _opt_utc(row.disabled_at),
            row.lawyer_contact,
        )


@dataclass(frozen=True, slots=True)
class ClientRow:
    """An API client as stored."""

    id: str
    partner_id: str
    name: str
    role: str
    scopes: frozenset[str]
    status: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, row: Row[Any]) -> ClientRow:
        """From an `api_clients` row."""
        return cls(
            row.id,
            row.partner_id,
            row.name,
            row.role,
            parse_scope(row.scopes),
            row.status,
            as_utc(row.created_at),
            _opt_utc(row.revoked_at),
        )


@dataclass(frozen=True, slots=True)
class KeyRow:
    """A registered client key as stored."""

    kid: str
    client_id: str
    public_jwk: dict[str, Any]
    status: str
    not_before: datetime
    not_after: datetime
    created_at: datetime
    revoked_at: datetime | None
    device_name: str | None = None

    @classmethod
    def of(cls, row: Row[Any]) -> KeyRow:
        """From a `client_keys` row."""
        return cls(
            row.kid,
            row.client_id,
            json.loads(row.public_jwk),
            row.status,
            as_utc(row.not_before),
            as_utc(row.not_after),
            as_utc(row.created_at),
            _opt_utc(row.revoked_at),
            row.device_name,
        )

    def usable_at(self, now: datetime) -> bool:
        """Active and inside its validity window."""
        return self.status == KeyStatus.ACTIVE and self.not_before <= now < self.not_after
