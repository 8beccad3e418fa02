"""Pure registry rules: statuses, ids, the scopes an administrator may assign."""

from __future__ import annotations

import secrets
from enum import StrEnum

from libs.common.auth.principal import Principal
from libs.common.auth.roles import OPERATOR_ONLY, Role, scopes_outside
from libs.common.auth.scopes import ALL_SCOPES, Scope

DEFAULT_KEY_VALIDITY_DAYS = 365
MAX_KEY_VALIDITY_DAYS = 2 * 365


class PartnerStatus(StrEnum):
    """Whether a partner's clients may obtain tokens."""

    ACTIVE = "active"
    DISABLED = "disabled"
    # Seized (docs/auth.md, "Seizure response"): like disabled, until a seizure is lifted.
    SEIZED = "seized"


class ClientStatus(StrEnum):
    """Whether a client may obtain tokens."""

    ACTIVE = "active"
    REVOKED = "revoked"
    SEIZED = "seized"  # no tokens, no new keys, until the seizure is lifted


class KeyStatus(StrEnum):
    """Whether a client key may sign assertions (within its validity window)."""

    ACTIVE = "active"
    REVOKED = "revoked"
    # Enrolled by a device with a code; signs nothing until an admin confirms its fingerprint.
    PENDING = "pending"


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


def check_role(role: Role, scopes: frozenset[str], *, operator_org: bool) -> list[dict[str, str]]:
    """What is wrong with giving a client of this partner this role and scopes (422 fields)."""
    problems = []
    if role in OPERATOR_ONLY and not operator_org:
        problems.append(
            {"path": "role", "reason": "only the operator's organisation has this role"}
        )
    outside = scopes_outside(role, scopes)
    if outside:
        reason = f"a {role} client may not hold {', '.join(sorted(outside))}"
        problems.append({"path": "scopes", "reason": reason})
    return problems


def managed_partner(principal: Principal) -> str | None:
    """The one partner a caller may manage clients of; None for the operator (every partner)."""
    return None if Scope.ADMIN in principal.scopes else principal.partner_id
