"""The verified identity a route receives."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, for which partner, with which scopes, until when (from a verified token)."""

    client_id: str
    partner_id: str  # the token's `org` claim
    scopes: frozenset[str]
    jti: str
    exp: int
    iat: int
    issuer: str
    audiences: tuple[str, ...]
    # The registered client key the token was obtained with, and sharing's signing key:
    # both are revocation targets, so they travel with the principal.
    client_kid: str
    signing_kid: str
    # The client's registered role (`libs.common.auth.roles.Role`): services read it, never
    # guess it from the scopes.
    role: str

    def has_scopes(self, *required: str) -> bool:
        """True when every scope in `required` was granted."""
        return self.scopes.issuperset(required)
