"""Pure rules of a seizure: ids, statuses, targets and what was taken."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from enum import StrEnum

from libs.common.errors import InvalidInput


class SeizureStatus(StrEnum):
    """Whether a seizure still holds."""

    ACTIVE = "active"
    LIFTED = "lifted"


class TargetKind(StrEnum):
    """What is seized: one client, or a partner with every client it has."""

    CLIENT = "client"
    PARTNER = "partner"


def new_seizure_id() -> str:
    """A random seizure id."""
    return f"szr_{secrets.token_hex(8)}"


def target_of(client_id: str | None, partner_id: str | None) -> tuple[TargetKind, str]:
    """The one target a request names; a 422 unless exactly one of the two is given."""
    if (client_id is None) == (partner_id is None):
        reason = "give exactly one of client_id and partner_id"
        raise InvalidInput(
            reason,
            fields=[{"path": p, "reason": reason} for p in ("client_id", "partner_id")],
        )
    if client_id is not None:
        return TargetKind.CLIENT, client_id
    assert partner_id is not None
    return TargetKind.PARTNER, partner_id


@dataclass
class Taken:
    """What one seizure revoked, cancelled and withdrew (ids are safe to keep: they are random)."""

    clients: list[str] = field(default_factory=list)
    client_keys: list[str] = field(default_factory=list)
    delivery_keys: list[str] = field(default_factory=list)
    report_grants: list[str] = field(default_factory=list)
    approvals: list[str] = field(default_factory=list)
    enrolments: list[str] = field(default_factory=list)  # open enrolment codes, cancelled

    def counts(self) -> dict[str, int]:
        """How many of each, as the audit entry and the answer show them."""
        return {name: len(ids) for name, ids in asdict(self).items()}

    def record(self) -> dict[str, list[str]]:
        """The ids, as the seizure row keeps them."""
        return asdict(self)
