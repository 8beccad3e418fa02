"""Pure registry rules: statuses, ids, the scopes an administrator may assign."""

from __future__ import annotations

import secrets
from enum import StrEnum

from libs.common.auth.scopes import ALL_SCOPES, Scope, parse_scope

DEFAULT_KEY_VALIDITY_DAYS = 365
MAX_KEY_VALIDITY_DAYS = 2 * 365


class PartnerStatus(StrEnum):
    """Whether a partner's clients may obtain tokens."""

    ACTIVE = "active"
    DISABLED = "disabled"


class ClientStatus(StrEnum):
    """Whether a client may obtain tokens."""

    ACTIVE = "active"
    REVOKED = "revoked"


class KeyStatus(StrEnum):
    """Whether a client key may sign assertions (within its validity window)."""

    ACTIVE = "active"
    REVOKED = "revoked"


def new_partner_id() -> str:
    """A random partner id: ids reach logs, so they must not spell an organisation's name."""
    return f"ptn_{secrets.token_hex(8)}"


def new_client_id() -> str:
    """A random client id (same reason as partner ids)."""
    return f"cli_{secrets.token_hex(8)}"


def check_scopes(scopes: list[str]) -> frozenset[str]:
    """Scopes an administrator assigns: at least one, all known."""
    names = frozenset(scopes)
    if not names or not names <= ALL_SCOPES:
        raise ValueError(f"scopes must be some of: {', '.join(sorted(ALL_SCOPES))}")
    return names


def is_admin_scopes(scopes: str) -> bool:
    """True when a stored scope string includes `admin`."""
    return Scope.ADMIN.value in parse_scope(scopes)
