"""Scope and audience names shared by the token issuer, every verifier and the SDK."""

from __future__ import annotations

from enum import StrEnum


class Scope(StrEnum):
    """What an access token allows; routes declare the scopes they need."""

    REPORTS_SUBMIT = "reports:submit"
    REPORTS_READ = "reports:read"
    # Grant a report of one's own partner to another partner, or erase it.
    REPORTS_MANAGE = "reports:manage"
    # Register and revoke one's own partner's clients and their keys (never another partner's).
    CLIENTS_MANAGE = "clients:manage"
    WATCHLIST_MANAGE = "watchlist:manage"
    # Set one's own organisation's alert escalation: timing and the duty contacts every
    # colleague's unacknowledged alerts reach (a partner administrator's, not each lawyer's).
    ESCALATION_MANAGE = "escalation:manage"
    ALERTS_READ = "alerts:read"
    ALERTS_ACK = "alerts:ack"
    ADMIN = "admin"


class Audience(StrEnum):
    """The `aud` value of each service; a verifier accepts only its own."""

    INTAKE = "lifeline-intake"
    SHARING = "lifeline-sharing"
    ALERTS = "lifeline-alerts"


ALL_SCOPES: frozenset[str] = frozenset(s.value for s in Scope)
ALL_AUDIENCES: frozenset[str] = frozenset(a.value for a in Audience)


def parse_scope(value: str) -> frozenset[str]:
    """Split an RFC 6749 space-separated `scope` string into its names."""
    return frozenset(part for part in value.split(" ") if part)


def format_scope(scopes: frozenset[str] | set[str] | list[str] | tuple[str, ...]) -> str:
    """Join scope names the way they travel in tokens and token requests (sorted, stable)."""
    return " ".join(sorted(set(scopes)))


# Where sharing serves the token endpoint and its JWKS (clients build URLs from these).
TOKEN_PATH = "/v1/auth/token"  # noqa: S105 - a path, not a secret
JWKS_PATH = "/.well-known/jwks.json"
WHOAMI_PATH = "/v1/auth/whoami"

# The `iss` of every access token, unless a deployment configures another. A name, not a URL:
# sharing's public address and the address other services use to reach it may differ (a
# cluster-internal name), and tying `iss` to either would break verification when they do.
DEFAULT_ISSUER = "urn:lifeline:sharing"

# Which services a scope is for. Every client may also call sharing (OPRF, its own identity),
# so sharing is in every token; `admin` reaches all three (system routes everywhere).
_SCOPE_AUDIENCES: dict[str, frozenset[str]] = {
    Scope.REPORTS_SUBMIT: frozenset({Audience.INTAKE, Audience.SHARING}),
    Scope.REPORTS_READ: frozenset({Audience.SHARING}),
    Scope.REPORTS_MANAGE: frozenset({Audience.SHARING}),
    Scope.CLIENTS_MANAGE: frozenset({Audience.SHARING}),
    Scope.WATCHLIST_MANAGE: frozenset({Audience.ALERTS, Audience.SHARING}),
    Scope.ESCALATION_MANAGE: frozenset({Audience.ALERTS, Audience.SHARING}),
    Scope.ALERTS_READ: frozenset({Audience.ALERTS, Audience.SHARING}),
    Scope.ALERTS_ACK: frozenset({Audience.ALERTS, Audience.SHARING}),
    Scope.ADMIN: frozenset(ALL_AUDIENCES),
}


def audiences_for(scopes: frozenset[str] | set[str] | list[str] | tuple[str, ...]) -> list[str]:
    """The services (`aud` values) a token with these scopes is for, in a stable order."""
    wanted: set[str] = set()
    for scope in scopes:
        wanted |= _SCOPE_AUDIENCES.get(scope, frozenset())
    return [a.value for a in Audience if a.value in wanted]
