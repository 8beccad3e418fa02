"""The published OpenAPI document says what each route requires: `security` with scopes."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from libs.common.auth.fastapi import BEARER, api_routes, requirements

# The OpenAPI security scheme every protected route names (FastAPI's name for HTTPBearer).
SCHEME = BEARER.scheme_name
# Root extension: the `aud` this service accepts, so a document alone says who can call it.
AUDIENCE_KEY = "x-lifeline-audience"


def security_of(dependant: object) -> list[dict[str, list[str]]] | None:
    """A route's OpenAPI `security`: alternatives (any one suffices) of scopes all required."""
    # `[]` for PUBLIC (no token), `[{SCHEME: []}]` for any valid token, None when the route
    # declares nothing (it is then open, which the route-declaration test forbids).
    declared = requirements(dependant)
    scoped = [d for d in declared if not getattr(d, "lifeline_public", False)]
    if not declared:
        return None
    if not scoped:
        return []
    alternatives: set[frozenset[str]] = {frozenset()}
    for requirement in scoped:
        scopes: frozenset[str] = requirement.lifeline_scopes  # type: ignore[attr-defined]
        if getattr(requirement, "any_of", False) and scopes:
            options = [frozenset({scope}) for scope in scopes]
        else:
            options = [scopes]
        alternatives = {have | option for have in alternatives for option in options}
    # An alternative that asks for more than another one adds nothing.
    minimal = [a for a in alternatives if not any(b < a for b in alternatives)]
    return [{SCHEME: sorted(a)} for a in sorted(minimal, key=sorted)]


def annotate(schema: dict[str, Any], app: FastAPI, audience: str) -> dict[str, Any]:
    """Write every operation's `security` and the service's audience into `schema`."""
    schema[AUDIENCE_KEY] = audience
    schemes = schema.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes.setdefault(SCHEME, BEARER.model.model_dump(by_alias=True, exclude_none=True))
    paths = schema.get("paths", {})
    for route in api_routes(app):
        security = security_of(route.dependant)
        item = paths.get(route.openapi_path, {})
        for method in route.methods:
            operation = item.get(method.lower())
            if operation is None:
                continue
            if security is None:
                operation.pop("security", None)
            else:
                operation["security"] = security
    return schema


def publish_security(app: FastAPI, audience: str) -> None:
    """Make `app.openapi()` (and `/openapi.json`) carry each route's scopes and the audience."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        schema = build()
        if schema.get(AUDIENCE_KEY) != audience:
            annotate(schema, app, audience)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
