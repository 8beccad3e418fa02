"""Client roles: what kind of program a client is, and the scopes each kind may ever hold."""

from __future__ import annotations

from enum import StrEnum

from libs.common.auth.scopes import Scope


class Role(StrEnum):
    """The registered kind of a client; it travels in every access token as the `role` claim."""

    SUBMITTER = "submitter"
    READER = "reader"
    LAWYER = "lawyer"
    PARTNER_ADMIN = "partner_admin"
    OPERATOR = "operator"


# The most a client of each role may be given. A lawyer may submit too: the lawyer is often the
# first to learn that a client was detained. Only an operator holds `admin`, and only clients of
# the operator's organisation may be operators. The organisation's escalation (whom every
# colleague's unacknowledged alert reaches) is the partner administrator's, not each lawyer's.
ROLE_SCOPES: dict[Role, frozenset[str]] = {
    Role.SUBMITTER: frozenset({Scope.REPORTS_SUBMIT}),
    Role.READER: frozenset({Scope.REPORTS_SUBMIT, Scope.REPORTS_READ, Scope.REPORTS_MANAGE}),
    Role.LAWYER: frozenset(
        {
            Scope.REPORTS_SUBMIT,
            Scope.REPORTS_READ,
            Scope.WATCHLIST_MANAGE,
            Scope.ALERTS_READ,
            Scope.ALERTS_ACK,
        }
    ),
    Role.PARTNER_ADMIN: frozenset(
        {Scope.CLIENTS_MANAGE, Scope.REPORTS_READ, Scope.REPORTS_MANAGE, Scope.ESCALATION_MANAGE}
    ),
    Role.OPERATOR: frozenset({Scope.ADMIN}),
}
ALL_ROLES: frozenset[str] = frozenset(r.value for r in Role)
# Roles whose clients may read reports: the only roles a policy or a per-report grant can name.
READING_ROLES: frozenset[str] = frozenset(
    r.value for r in Role if Scope.REPORTS_READ in ROLE_SCOPES[r]
)
# Roles only the operator's organisation may hold.
OPERATOR_ONLY: frozenset[Role] = frozenset({Role.OPERATOR})


def scopes_outside(role: Role, scopes: frozenset[str] | set[str]) -> frozenset[str]:
    """The scopes in `scopes` that a client of `role` may not hold (empty when all fit)."""
    return frozenset(scopes) - ROLE_SCOPES[role]


def within_role(role: str, scopes: frozenset[str]) -> frozenset[str]:
    """`scopes` cut to the role's bound (nothing for an unknown role): what a token may carry."""
    if role not in ALL_ROLES:
        return frozenset()
    return scopes & ROLE_SCOPES[Role(role)]
