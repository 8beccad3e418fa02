"""FastAPI glue: scope-checking dependencies and a way to list what each route declares."""

# No `from __future__ import annotations` here: FastAPI reads the annotations of the
# dependencies' __call__ at runtime and cannot resolve strings on class instances.

import logging
from collections.abc import Iterable, Iterator
from typing import Annotated, Any, NamedTuple

import fastapi.routing
from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from libs.common.auth.principal import Principal
from libs.common.auth.scopes import ALL_SCOPES, Scope, format_scope
from libs.common.auth.verifier import TokenVerifier
from libs.common.errors import Forbidden, Unauthenticated, Unavailable

log = logging.getLogger("libs.common.auth")

# auto_error=False: FastAPI's own error would be a 403 with its own body; we answer 401 ourselves.
_bearer = HTTPBearer(auto_error=False, description="Access token from sharing's token endpoint")
BearerCredentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
# The security scheme every protected route uses, as the OpenAPI document names it.
BEARER = _bearer


class ScopeRequirement:
    """A dependency returning the caller's `Principal` if its token grants every scope listed."""

    def __init__(self, scopes: frozenset[str], *, any_of: bool = False) -> None:
        self.lifeline_scopes = scopes
        # any_of: one of the scopes suffices (e.g. OPRF evaluation for submitters and lawyers).
        self.any_of = any_of

    async def __call__(self, request: Request, credentials: BearerCredentials) -> Principal:
        """Verify the bearer token (401 if not valid) and the scopes (403 if missing)."""
        if credentials is None:
            raise Unauthenticated()
        verifier = getattr(request.app.state, "verifier", None)
        if not isinstance(verifier, TokenVerifier):
            # A deployment mistake, not the caller's: answer 503 rather than fail open or 401.
            log.error("no TokenVerifier on app.state.verifier")
            raise Unavailable("authentication is not configured")
        principal = await verifier.verify(credentials.credentials)
        request.state.principal = principal
        granted = (
            bool(principal.scopes & self.lifeline_scopes)
            if self.any_of
            else principal.scopes.issuperset(self.lifeline_scopes)
        )
        if not granted:
            needed = format_scope(list(self.lifeline_scopes))
            challenge = f'Bearer error="insufficient_scope", scope="{needed}"'
            raise Forbidden("insufficient scope", headers={"WWW-Authenticate": challenge})
        return principal


class PublicEndpoint:
    """Declares a route deliberately unauthenticated (health, JWKS, token endpoint)."""

    lifeline_scopes: frozenset[str] = frozenset()
    lifeline_public = True

    async def __call__(self) -> None:
        """Nothing to check."""


def require_scopes(*scopes: Scope | str) -> ScopeRequirement:
    """Dependency: a valid access token for this service that grants all of `scopes`."""
    names = frozenset(str(s) for s in scopes)
    if not names:
        raise ValueError("declare at least one scope; use PUBLIC for open routes")
    if not names <= ALL_SCOPES:
        raise ValueError("unknown scope")
    return ScopeRequirement(names)


def require_any_scope(*scopes: Scope | str) -> ScopeRequirement:
    """Dependency: a valid access token for this service that grants at least one of `scopes`."""
    requirement = require_scopes(*scopes)
    return ScopeRequirement(requirement.lifeline_scopes, any_of=True)


PUBLIC = PublicEndpoint()
# A valid token for this service, whatever its scopes: for routes about the caller itself
# (`/v1/auth/whoami`). Declared, so `undeclared_routes` accepts it; never for data routes.
AUTHENTICATED = ScopeRequirement(frozenset())


def route_scopes(app: FastAPI) -> dict[str, frozenset[str] | None]:
    """`"METHOD,… /path"` -> scopes the route requires (empty for PUBLIC, None if undeclared)."""
    result: dict[str, frozenset[str] | None] = {}
    for name, dependant in _api_routes(app):
        declared: frozenset[str] | None = None
        for call in _calls(dependant):
            scopes = getattr(call, "lifeline_scopes", None)
            if isinstance(scopes, frozenset):
                declared = scopes if declared is None else declared | scopes
        result[name] = declared
    return result


def undeclared_routes(app: FastAPI) -> list[str]:
    """Routes that declare neither scopes nor PUBLIC; a service test asserts this is empty."""
    return sorted(name for name, scopes in route_scopes(app).items() if scopes is None)


def public_routes(app: FastAPI) -> list[str]:
    """Routes declared PUBLIC (no token at all); a service test compares this to an allow-list."""
    return sorted(
        name
        for name, dependant in _api_routes(app)
        if any(getattr(call, "lifeline_public", False) for call in _calls(dependant))
    )


class ApiRoute(NamedTuple):
    """One API route as the auth code sees it."""

    methods: tuple[str, ...]  # sorted
    path: str  # as routed (`/v1/x/{id}`)
    openapi_path: str  # as the OpenAPI document writes it (convertors removed)
    dependant: object


def api_routes(app: FastAPI) -> Iterator[ApiRoute]:
    """Every API route, including those inside included routers.

    FastAPI >= 0.16x keeps an included router as one lazy entry in `app.routes`; its routes
    (with the dependencies given to `include_router`) are only visible as route contexts.
    """
    for route in _all_routes(app):
        original = getattr(route, "original_route", route)
        if not isinstance(original, APIRoute):
            continue
        methods = tuple(sorted(getattr(route, "methods", None) or ()))
        path_format = getattr(route, "path_format", None) or route.path
        yield ApiRoute(methods, route.path, path_format, route.dependant)


def other_routes(app: FastAPI) -> list[str]:
    """Routes no dependency guards (FastAPI's own /openapi.json and /docs pages, mounts)."""
    found = []
    for route in _all_routes(app):
        if isinstance(getattr(route, "original_route", route), APIRoute):
            continue
        methods = ",".join(sorted(getattr(route, "methods", None) or ())) or "*"
        found.append(f"{methods} {getattr(route, 'path', '?')}")
    return sorted(found)


def _all_routes(app: FastAPI) -> Iterable[Any]:
    # FastAPI >= 0.16x keeps an included router as one lazy entry in `app.routes`.
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    return contexts(app.routes) if contexts is not None else app.routes


def requirements(dependant: object) -> list[object]:
    """The auth declarations (`ScopeRequirement`, `PUBLIC`) among a route's dependencies."""
    return [
        c for c in _calls(dependant) if isinstance(getattr(c, "lifeline_scopes", None), frozenset)
    ]


def _api_routes(app: FastAPI) -> Iterator[tuple[str, object]]:
    """("METHOD,… /path", dependant) of every API route."""
    for route in api_routes(app):
        yield f"{','.join(route.methods)} {route.path}", route.dependant


def _calls(dependant: object) -> Iterator[object]:
    call = getattr(dependant, "call", None)
    if call is not None:
        yield call
    for sub in getattr(dependant, "dependencies", ()):
        yield from _calls(sub)
