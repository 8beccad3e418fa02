"""The one access-token verifier every service uses (RFC 9068 profile, EdDSA only)."""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from libs.common.auth import compact
from libs.common.auth.compact import Rejected, reject
from libs.common.auth.jwk import is_safe_kid
from libs.common.auth.jwks import JwksCache
from libs.common.auth.principal import Principal
from libs.common.auth.revocation import RevocationList
from libs.common.auth.roles import ALL_ROLES
from libs.common.errors import Unauthenticated

log = logging.getLogger("libs.common.auth")

MAX_ACCESS_TOKEN_LIFETIME = 600
ACCESS_TOKEN_TYP = "at+jwt"  # noqa: S105 - a media type, not a secret
# An access token carries exactly what our minter writes; anything else is a different kind of
# token or a crafted one, and refusing it keeps one way to read a header.
_ACCESS_HEADERS = frozenset({"alg", "typ", "kid"})


def _is_access_typ(typ: str | None) -> bool:
    return typ == ACCESS_TOKEN_TYP


class TokenVerifier:
    """Verifies bearer access tokens for one service audience and caches the results."""

    def __init__(
        self,
        *,
        audience: str,
        jwks: JwksCache,
        revocations: RevocationList | None = None,
        max_lifetime: int = MAX_ACCESS_TOKEN_LIFETIME,
        leeway: int = 30,
        max_token_bytes: int = compact.MAX_TOKEN_BYTES,
        cache_size: int = 10_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.audience = audience
        self.jwks = jwks
        self.revocations = revocations if revocations is not None else RevocationList()
        self._max_lifetime = max_lifetime
        self._leeway = leeway
        self._max_bytes = max_token_bytes
        self._cache_size = cache_size
        # sha256(token) -> principal; verification costs ~120 µs, a hit a few µs.
        self._cache: OrderedDict[bytes, Principal] = OrderedDict()
        self._clock = clock
        self.gate: Callable[[Principal], Awaitable[None]] | None = None

    async def verify(self, token: object) -> Principal:
        """The principal of a valid access token for this service, else `Unauthenticated`.

        Then `gate` (if set) decides whether what this replica knows of revocations can be
        trusted now; it may refuse (503) or check elsewhere (see `wiring.ServiceAuth`).
        """
        principal = await self._checked(token)
        if self.gate is not None:
            await self.gate(principal)
        return principal

    async def _checked(self, token: object) -> Principal:
        try:
            return await self._verify(token)
        except Rejected as exc:
            raise compact.unauthenticated(exc.code, "access token") from None
        except Unauthenticated:
            raise
        except Exception as exc:
            # Whatever a crafted token provokes, the caller sees the same 401, never a 500.
            log.warning("access token check failed unexpectedly: %s", type(exc).__name__)
            raise Unauthenticated() from None

    def forget_all(self) -> None:
        """Drop every cached verification (e.g. after a signing-key compromise)."""
        self._cache.clear()

    async def _verify(self, token: object) -> Principal:
        if not isinstance(token, str) or len(token) > self._max_bytes:
            reject("not_a_string" if not isinstance(token, str) else "too_large")
        now = self._clock()
        digest = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        cached = self._cache.get(digest)
        if cached is not None:
            if now >= cached.exp + self._leeway or self.revocations.is_revoked(cached):
                del self._cache[digest]
                reject("cached_expired_or_revoked")
            self._cache.move_to_end(digest)
            return cached

        jws = compact.parse_compact(token, max_bytes=self._max_bytes)
        kid = compact.check_header(jws.header, typ_ok=_is_access_typ, allowed=_ACCESS_HEADERS)
        principal = self._claims(jws.payload, kid, now)
        if self.revocations.is_revoked(principal):
            reject("revoked")
        # Only now, with a well-formed, current token for us from a known issuer, may an
        # unknown kid cost a (rate-limited) JWKS fetch.
        key = await self.jwks.key_for(principal.issuer, kid)
        if key is None:
            reject("unknown_kid")
        compact.verify_signature(jws, key)
        self._remember(digest, principal)
        return principal

    def _claims(self, claims: dict[str, object], kid: str, now: float) -> Principal:
        issuer = compact.bounded_str(claims, "iss")
        if issuer not in self.jwks.issuers:
            reject("issuer")
        subject = compact.safe_id(claims, "sub")
        client_id = compact.safe_id(claims, "client_id")
        if client_id != subject:
            # Client-credentials tokens act for the client itself (RFC 9068 §2.2).
            reject("sub_client_id")
        auds = compact.audiences(claims)
        if self.audience not in auds:
            reject("aud")
        exp = compact.numeric_date(claims, "exp")
        iat = compact.numeric_date(claims, "iat")
        nbf = compact.optional_numeric_date(claims, "nbf")
        if not 0 < exp - iat <= self._max_lifetime:
            reject("lifetime")
        if iat > now + self._leeway:
            reject("iat_future")
        if nbf is not None and (nbf > now + self._leeway or nbf >= exp):
            reject("nbf")
        if now >= exp + self._leeway:
            reject("expired")
        client_kid = claims.get("client_kid")
        if not is_safe_kid(client_kid):
            reject("client_kid")
        role = claims.get("role")
        if not isinstance(role, str) or role not in ALL_ROLES:
            reject("role")
        return Principal(
            client_id=client_id,
            partner_id=compact.safe_id(claims, "org"),
            scopes=compact.scopes(claims),
            jti=compact.bounded_str(claims, "jti", max_len=128),
            exp=exp,
            iat=iat,
            issuer=issuer,
            audiences=auds,
            client_kid=client_kid,
            signing_kid=kid,
            role=role,
        )

    def _remember(self, digest: bytes, principal: Principal) -> None:
        self._cache[digest] = principal
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
