"""Pure rules of two-person approval: actions, statuses, who may decide, what the action runs as."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from libs.common.auth.principal import Principal
from libs.common.errors import Forbidden

# The two-person approval switches, as `lifeline up --sealed` and deploy/ turn them all on.
APPROVAL_SETTINGS = (
    "APPROVAL_KEY_REGISTRATION",
    "APPROVAL_POLICY_CHANGE",
    "APPROVAL_ERASURE",
    "APPROVAL_SEIZURE_LIFT",
)


class ApprovalAction(StrEnum):
    """The actions a setting can put behind a second operator."""

    KEY_REGISTRATION = "key_registration"
    POLICY_CHANGE = "policy_change"
    ERASURE = "erasure"
    SEIZURE_LIFT = "seizure_lift"


class ApprovalStatus(StrEnum):
    """Where an approval stands; only `pending` can still be decided."""

    PENDING = "pending"
    RUNNING = "running"  # approved; the action is running (or died running: never re-run)
    DONE = "done"
    FAILED = "failed"  # approved, but the action refused to run (the outcome says why)
    DENIED = "denied"
    EXPIRED = "expired"
    CANCELLED = "cancelled"  # its requester (or the client it would key) was seized


class SameOperator(Forbidden):
    """The requester tried to approve or deny its own request."""

    code = "same_operator"


def new_approval_id() -> str:
    """A random approval id."""
    return f"apr_{secrets.token_hex(8)}"


def check_second_operator(requested_by: str, decider: str) -> None:
    """Refuse a decision by the requesting client itself (identity is the client id)."""
    if requested_by == decider:
        raise SameOperator("a second operator must decide: not the client that asked")


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asked: the action runs with exactly this client's identity, role and scopes."""

    client_id: str
    partner_id: str
    role: str
    scopes: tuple[str, ...]

    @classmethod
    def of(cls, principal: Principal) -> Requester:
        """From the requesting token."""
        return cls(
            principal.client_id,
            principal.partner_id,
            principal.role,
            tuple(sorted(principal.scopes)),
        )

    def record(self) -> dict[str, Any]:
        """As stored with the approval."""
        return {"role": self.role, "scopes": list(self.scopes)}

    @classmethod
    def stored(cls, client_id: str, partner_id: str, record: dict[str, Any]) -> Requester:
        """From the stored approval."""
        return cls(client_id, partner_id, record["role"], tuple(record["scopes"]))

    def principal(self) -> Principal:
        """A principal for the use case that runs the action (no token: it is not one)."""
        return Principal(
            client_id=self.client_id,
            partner_id=self.partner_id,
            scopes=frozenset(self.scopes),
            jti="approval",
            exp=0,
            iat=0,
            issuer="approval",
            audiences=(),
            client_kid="approval",
            signing_kid="approval",
            role=self.role,
        )
