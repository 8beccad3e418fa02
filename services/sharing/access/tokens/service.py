"""The token endpoint's use case: authenticate a client's assertion, remember it, mint a token."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.auth.principal import Principal
from libs.common.auth.scopes import format_scope
from libs.common.auth.tokens import averify_client_assertion, mint_access_token
from libs.common.auth.wiring import RevocationsUnconfirmed
from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.crypto.errors import WeakPublicKey
from libs.common.db import transaction
from libs.common.errors import Unauthenticated
from libs.common.ratelimit import Quota
from services.sharing.access.tokens import repository as tokens_repo
from services.sharing.access.tokens.domain import (
    TokenRequest,
    grant_audiences,
    grant_scopes,
    invalid_client,
)
from services.sharing.access.tokens.keystore import SigningKeystore
from services.sharing.access.tokens.limits import TokenLimits
from services.sharing.access.tokens.repository import SigningContext

log = logging.getLogger(__name__)

# A jti is kept a little past the assertion's exp: the verifier accepts 30 s of clock skew.
_JTI_MARGIN_SECONDS = 60


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """An access token and what it grants."""

    access_token: str
    expires_in: int
    scope: str
    # What the client has left of its token limit (the RateLimit headers of the answer).
    quotas: tuple[Quota, ...] = ()


class TokenIssuer:
    """Issues access tokens to registered clients that prove possession of their key."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        keystore: SigningKeystore,
        *,
        issuer: str,
        token_endpoint: str,
        lifetime: int,
        limits: TokenLimits,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.limits = limits
        self._sessions = sessions
        self._keystore = keystore
        self.issuer = issuer
        self.token_endpoint = token_endpoint
        self._lifetime = lifetime
        self._clock = clock

    async def issue(self, request: TokenRequest) -> IssuedToken:
        """Verify the assertion against the registry (now), refuse replays, mint the token."""
        now = self._clock.time()
        when = datetime.fromtimestamp(now, UTC)
        found: list[SigningContext] = []
        # One transaction for the registry lookup and the replay record: one round trip to
        # the database's thread or server instead of two (this is most of the endpoint's cost).
        async with transaction(self._sessions) as session:

            async def lookup(client_id: str, kid: str) -> Ed25519PublicKey | None:
                # Reached only after every key-free check passed: junk never queries the registry.
                try:
                    context = await tokens_repo.signing_context(session, client_id, kid, when)
                except WeakPublicKey:
                    # Stored before keys were checked (or planted): it signs nothing, ever.
                    log.warning("weak client key refused", extra={"client_id": client_id})
                    return None
                if context is not None:
                    found.append(context)
                return None if context is None else context.public_key

            try:
                claims = await averify_client_assertion(
                    request.assertion, self.token_endpoint, lookup, now
                )
            except Unauthenticated:
                raise invalid_client() from None
            # Counted only once the assertion verified: whoever merely names a client id must
            # not be able to spend its budget and lock it out.
            quota = self.limits.check_client(claims.client_id)
            context = found[0]
            scopes = grant_scopes(request.scope, context.scopes)
            audiences = grant_audiences(request.audience, scopes)
            expires = datetime.fromtimestamp(claims.exp + _JTI_MARGIN_SECONDS, UTC)
            if not await tokens_repo.remember_jti(session, claims.client_id, claims.jti, expires):
                log.info("assertion replay refused", extra={"client_id": claims.client_id})
                raise invalid_client()
        key = self._keystore.keyring().active()
        token = mint_access_token(
            key.private_key,
            key.kid,
            issuer=self.issuer,
            subject=claims.client_id,
            audiences=audiences,
            scopes=scopes,
            lifetime=self._lifetime,
            now=now,
            org=context.partner_id,
            role=context.role,
            client_kid=claims.kid,
        )
        log.debug("token issued", extra={"client_id": claims.client_id, "key_id": key.kid})
        return IssuedToken(token, self._lifetime, format_scope(scopes), (quota,))


async def confirm_registered(
    sessions: async_sessionmaker[AsyncSession], principal: Principal
) -> None:
    """Sharing's own answer while its revocation feed is not current: the registry decides.

    Every revocation is written to the registry before it is announced on the bus, so a token
    whose client, partner and client key are still active there is not revoked.
    """
    try:
        async with sessions() as session:
            active = await tokens_repo.holds_active_key(
                session, principal.client_id, principal.client_kid
            )
    except SQLAlchemyError:
        raise RevocationsUnconfirmed() from None
    if not active:
        raise Unauthenticated()
