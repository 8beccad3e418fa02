"""A token issuer for service tests: real keyring, real minting, real verifier, JWKS in memory."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import FastAPI

from libs.common.auth.jwks import JwksCache
from libs.common.auth.keyring import SigningKeyring
from libs.common.auth.roles import ROLE_SCOPES, Role
from libs.common.auth.tokens import mint_access_token
from libs.common.auth.verifier import TokenVerifier

ISSUER = "http://sharing.test"


def role_for(scopes: Iterable[str]) -> Role:
    """The narrowest registered role whose bound holds `scopes` (operator when none does)."""
    wanted = frozenset(scopes)
    return next((r for r in Role if wanted <= ROLE_SCOPES[r]), Role.OPERATOR)


class TestIssuer:
    """Mints access tokens the way sharing does; services verify them with the real verifier."""

    __test__ = False

    def __init__(self) -> None:
        self.keyring = SigningKeyring.bootstrap(time.time())

    def verifier(self, audience: str) -> TokenVerifier:
        """A verifier for one service whose JWKS comes from this issuer's keyring."""

        async def fetch() -> dict[str, Any]:
            return dict(self.keyring.jwks())

        return TokenVerifier(audience=audience, jwks=JwksCache({ISSUER: fetch}))

    def install(self, app: FastAPI, audience: str) -> None:
        """Make a running app verify this issuer's tokens."""
        app.state.verifier = self.verifier(audience)

    def token(
        self,
        scopes: Sequence[str],
        audiences: Sequence[str],
        *,
        org: str = "partner-a",
        client_id: str | None = None,
        lifetime: int = 300,
        role: str | None = None,
    ) -> str:
        """An access token for a client of `org`."""
        key = self.keyring.active()
        return mint_access_token(
            key.private_key,
            key.kid,
            issuer=ISSUER,
            subject=client_id or f"client-{uuid.uuid4().hex[:8]}",
            audiences=audiences,
            scopes=scopes,
            lifetime=lifetime,
            now=time.time(),
            org=org,
            role=role or role_for(scopes),
            client_kid="k" * 43,
        )
