"""Token endpoint and JWKS: the two public routes every client and service relies on."""

# No `from __future__ import annotations`: FastAPI reads the route annotations at runtime.

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from libs.common.auth.fastapi import PUBLIC
from libs.common.auth.scopes import JWKS_PATH, TOKEN_PATH
from libs.common.openapi import RATE_LIMITED
from libs.common.problems import OAuthProblem
from libs.common.ratelimit import ratelimit_headers
from services.sharing.access.tokens.domain import parse_token_form
from services.sharing.access.tokens.schemas import TokenResponse
from services.sharing.deps import Keystore, Tokens

router = APIRouter(tags=["auth"])

# The form is parsed by hand (strictly, see domain.parse_token_form); this documents it.
_TOKEN_FORM: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["grant_type", "client_assertion_type", "client_assertion"],
                    "properties": {
                        "grant_type": {"type": "string", "enum": ["client_credentials"]},
                        "client_assertion_type": {"type": "string"},
                        "client_assertion": {"type": "string"},
                        "scope": {"type": "string"},
                        "audience": {"type": "string"},
                    },
                }
            }
        },
    }
}
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
# Errors here follow RFC 6749 §5.2 (`error`, `error_description`), as OAuth clients expect, not
# the problem shape of every other route (except 503, answered before the endpoint runs).
_OAUTH = {
    "description": "an OAuth error (RFC 6749 §5.2), not an RFC 9457 problem",
    "model": OAuthProblem,
}
_OAUTH_ERRORS: dict[int | str, dict[str, Any]] = {400: _OAUTH, 401: _OAUTH, 429: _OAUTH}


@router.post(
    TOKEN_PATH,
    response_model=TokenResponse,
    dependencies=[Depends(PUBLIC)],
    openapi_extra={**_TOKEN_FORM, RATE_LIMITED: True},
    responses=_OAUTH_ERRORS,
    summary="Exchange a signed client assertion (private_key_jwt) for an access token.",
)
async def token(request: Request, issuer: Tokens) -> JSONResponse:
    """RFC 6749 client_credentials with an RFC 7523 assertion; errors per RFC 6749 §5.2."""
    limits = issuer.limits
    peer = request.client.host if request.client else None
    source = limits.check_source(limits.source_of(peer, request.headers.get("x-forwarded-for")))
    form = parse_token_form(await request.body(), request.headers.get("content-type", ""))
    issued = await issuer.issue(form)
    body = TokenResponse(
        access_token=issued.access_token, expires_in=issued.expires_in, scope=issued.scope
    )
    limited = ratelimit_headers([source, *issued.quotas])
    return JSONResponse(body.model_dump(), headers={**_NO_STORE, **limited})


@router.get(
    JWKS_PATH,
    dependencies=[Depends(PUBLIC)],
    summary="Sharing's public token-signing keys (JWKS).",
)
async def jwks(keystore: Keystore) -> JSONResponse:
    """The keys that sign access tokens now, soon, and until their last tokens expire."""
    # Short caching: verifiers refresh every minute anyway and must see a removed key go.
    return JSONResponse(keystore.jwks(), headers={"Cache-Control": "public, max-age=60"})


@router.get(
    "/.well-known/oauth-authorization-server",
    dependencies=[Depends(PUBLIC)],
    summary="Authorization server metadata (RFC 8414): the token endpoint clients sign for.",
)
async def metadata(issuer: Tokens) -> JSONResponse:
    """Where to get tokens and how to authenticate; the token endpoint is an assertion's `aud`."""
    # A browser reaches the token endpoint through the console, at another address: it learns
    # here which address its assertions must name.
    base = issuer.token_endpoint.removesuffix(TOKEN_PATH)
    body = {
        "issuer": issuer.issuer,
        "token_endpoint": issuer.token_endpoint,
        "jwks_uri": base + JWKS_PATH,
        "grant_types_supported": ["client_credentials"],
        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
        "token_endpoint_auth_signing_alg_values_supported": ["EdDSA"],
        "response_types_supported": [],
    }
    return JSONResponse(body, headers={"Cache-Control": "public, max-age=300"})
