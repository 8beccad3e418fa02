"""Token issuing on the sharing side: access-token minting and RFC 7523 client assertions."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from libs.common.auth import compact
from libs.common.auth.compact import CompactJws, Rejected, reject
from libs.common.auth.jwk import is_safe_kid
from libs.common.auth.roles import ALL_ROLES
from libs.common.auth.scopes import ALL_SCOPES, format_scope
from libs.common.auth.verifier import ACCESS_TOKEN_TYP, MAX_ACCESS_TOKEN_LIFETIME

CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# draft-ietf-oauth-rfc7523bis names this typ; a plain JWT or no typ is accepted for scripts
# built with other libraries. An access token (at+jwt) is never accepted as an assertion.
CLIENT_ASSERTION_TYP = "client-authentication+jwt"
_ASSERTION_TYPS = frozenset({None, "jwt", CLIENT_ASSERTION_TYP})
MAX_ASSERTION_LIFETIME = 300

KeyLookupResult = Ed25519PublicKey | Sequence[Ed25519PublicKey] | None


def mint_access_token(
    signing_key: Ed25519PrivateKey,
    kid: str,
    *,
    issuer: str,
    subject: str,
    audiences: Sequence[str],
    scopes: Sequence[str] | frozenset[str],
    lifetime: int,
    now: float,
    org: str,
    role: str,
    client_kid: str,
    jti: str | None = None,
) -> str:
    """Sign an RFC 9068 access token (typ at+jwt, EdDSA) for client `subject` of partner `org`."""
    if not 0 < lifetime <= MAX_ACCESS_TOKEN_LIFETIME:
        raise ValueError("access tokens live at most 600 seconds")
    if not is_safe_kid(kid) or not is_safe_kid(client_kid):
        raise ValueError("kid and client_kid must be short base64url strings")
    if not compact.is_safe_id(subject) or not compact.is_safe_id(org):
        raise ValueError("subject and org must be plain ids")
    if not audiences or any(not isinstance(a, str) or not a for a in audiences):
        raise ValueError("at least one audience is required")
    unknown = set(scopes) - ALL_SCOPES
    if unknown:
        raise ValueError("unknown scopes requested")
    if role not in ALL_ROLES:
        raise ValueError("unknown role")
    iat = int(now)
    claims = {
        "iss": issuer,
        "sub": subject,
        "client_id": subject,
        "org": org,
        "role": role,
        "aud": list(dict.fromkeys(audiences)),
        "iat": iat,
        "nbf": iat,
        "exp": iat + lifetime,
        "jti": jti if jti is not None else secrets.token_urlsafe(16),
        "scope": format_scope(list(scopes)),
        "client_kid": client_kid,
    }
    return jwt.encode(
        claims, signing_key, algorithm="EdDSA", headers={"typ": ACCESS_TOKEN_TYP, "kid": kid}
    )


@dataclass(frozen=True, slots=True)
class AssertionClaims:
    """A verified client assertion; the caller must remember (client_id, jti) until `exp`."""

    client_id: str
    kid: str
    jti: str
    exp: int
    iat: int | None


def verify_client_assertion(
    assertion: object,
    token_endpoint_url: str,
    lookup_keys: Callable[[str, str], KeyLookupResult],
    now: float,
    max_lifetime: int = MAX_ASSERTION_LIFETIME,
    *,
    leeway: int = 30,
) -> AssertionClaims:
    """Verify an RFC 7523 private_key_jwt assertion; `lookup_keys(client_id, kid)` gives keys."""
    try:
        jws, claims = _check(assertion, token_endpoint_url, now, max_lifetime, leeway)
        _verify_with(jws, lookup_keys(claims.client_id, claims.kid))
        return claims
    except Rejected as exc:
        raise compact.unauthenticated(exc.code, "client assertion") from None


async def averify_client_assertion(
    assertion: object,
    token_endpoint_url: str,
    lookup_keys: Callable[[str, str], Awaitable[KeyLookupResult]],
    now: float,
    max_lifetime: int = MAX_ASSERTION_LIFETIME,
    *,
    leeway: int = 30,
) -> AssertionClaims:
    """`verify_client_assertion` with an async key lookup (e.g. the registry database)."""
    try:
        jws, claims = _check(assertion, token_endpoint_url, now, max_lifetime, leeway)
        _verify_with(jws, await lookup_keys(claims.client_id, claims.kid))
        return claims
    except Rejected as exc:
        raise compact.unauthenticated(exc.code, "client assertion") from None


def _is_assertion_typ(typ: str | None) -> bool:
    return typ in _ASSERTION_TYPS


def _check(
    assertion: object, endpoint: str, now: float, max_lifetime: int, leeway: int
) -> tuple[CompactJws, AssertionClaims]:
    """Every check that needs no key, so a bad assertion never reaches the registry."""
    if not 0 < max_lifetime <= MAX_ASSERTION_LIFETIME:
        raise ValueError("assertions may live at most 300 seconds")
    jws = compact.parse_compact(assertion)
    # Headers other than the dangerous ones are ignored: partner scripts may add their own.
    kid = compact.check_header(jws.header, typ_ok=_is_assertion_typ, allowed=None)
    claims = jws.payload
    client_id = compact.safe_id(claims, "iss")
    if claims.get("sub") != client_id:
        reject("iss_sub")
    # One audience, and exactly ours: a multi-valued aud is how an assertion meant for one
    # server gets replayed at another (the 2025 private_key_jwt audience-injection finding).
    aud = claims.get("aud")
    if aud not in (endpoint, [endpoint]):
        reject("aud")
    exp = compact.numeric_date(claims, "exp")
    iat = compact.optional_numeric_date(claims, "iat")
    nbf = compact.optional_numeric_date(claims, "nbf")
    if now >= exp + leeway:
        reject("expired")
    if exp - now > max_lifetime:
        reject("exp_too_far")
    if iat is not None and (iat > now + leeway or not 0 < exp - iat <= max_lifetime):
        reject("iat")
    if nbf is not None and nbf > now + leeway:
        reject("nbf")
    jti = compact.bounded_str(claims, "jti", max_len=256)
    return jws, AssertionClaims(client_id=client_id, kid=kid, jti=jti, exp=exp, iat=iat)


def _verify_with(jws: CompactJws, found: KeyLookupResult) -> None:
    if found is None:
        reject("unknown_key")
    keys = [found] if isinstance(found, Ed25519PublicKey) else list(found)
    for key in keys:
        if not isinstance(key, Ed25519PublicKey):
            reject("bad_registered_key")
        try:
            compact.verify_signature(jws, key)
        except Rejected:
            continue
        return
    reject("signature")
