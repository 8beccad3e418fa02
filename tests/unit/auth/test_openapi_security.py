"""The OpenAPI documents name each route's scopes; the matrix reads who reaches what from them."""

from __future__ import annotations

from typing import Annotated

import httpx
from fastapi import Depends, FastAPI
from fastapi.responses import PlainTextResponse
from starlette.requests import Request

from libs.common.auth.fastapi import (
    AUTHENTICATED,
    PUBLIC,
    other_routes,
    require_any_scope,
    require_scopes,
)
from libs.common.auth.matrix import Access, access, matrix, render
from libs.common.auth.openapi import AUDIENCE_KEY, SCHEME, publish_security
from libs.common.auth.principal import Principal
from libs.common.auth.scopes import Audience, Scope


def _app() -> FastAPI:
    app = FastAPI()
    manager = Depends(require_any_scope(Scope.CLIENTS_MANAGE, Scope.ADMIN))

    @app.get("/open", dependencies=[Depends(PUBLIC)])
    async def open_() -> None: ...

    @app.get("/me", dependencies=[Depends(AUTHENTICATED)])
    async def me() -> None: ...

    @app.post("/both", dependencies=[Depends(require_scopes(Scope.ADMIN, Scope.ALERTS_ACK))])
    async def both() -> None: ...

    @app.post("/either/{item_id}", dependencies=[manager])
    async def either(item_id: str) -> None: ...

    @app.get("/stacked")
    async def stacked(
        _: Annotated[Principal, Depends(require_any_scope(Scope.REPORTS_READ, Scope.ADMIN))],
        __: Annotated[Principal, Depends(require_scopes(Scope.REPORTS_MANAGE))],
    ) -> None: ...

    @app.get("/forgotten")
    async def forgotten() -> None: ...

    publish_security(app, Audience.SHARING)
    return app


def _security(app: FastAPI, method: str, path: str) -> object:
    return app.openapi()["paths"][path][method].get("security")


def test_each_operation_names_the_scopes_it_requires() -> None:
    app = _app()
    assert app.openapi()[AUDIENCE_KEY] == "lifeline-sharing"
    assert app.openapi()["components"]["securitySchemes"][SCHEME]["scheme"] == "bearer"
    assert _security(app, "get", "/open") == []
    assert _security(app, "get", "/me") == [{SCHEME: []}]
    assert _security(app, "post", "/both") == [{SCHEME: ["admin", "alerts:ack"]}]
    # Alternatives: any one of them suffices (OpenAPI's list of requirement objects).
    assert _security(app, "post", "/either/{item_id}") == [
        {SCHEME: ["admin"]},
        {SCHEME: ["clients:manage"]},
    ]
    assert _security(app, "get", "/stacked") == [
        {SCHEME: ["admin", "reports:manage"]},
        {SCHEME: ["reports:manage", "reports:read"]},
    ]
    assert _security(app, "get", "/forgotten") is None


async def test_the_served_document_says_it_too() -> None:
    transport = httpx.ASGITransport(app=_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        served = (await client.get("/openapi.json")).json()
    assert served[AUDIENCE_KEY] == "lifeline-sharing"
    assert served["paths"]["/both"]["post"]["security"] == [{SCHEME: ["admin", "alerts:ack"]}]


def test_the_matrix_follows_scopes_role_bounds_and_audiences() -> None:
    rows = {r.key: r for r in matrix({"sharing": _app().openapi()})}
    assert rows["sharing GET /open"].reached_by() == {
        "submitter", "reader", "lawyer", "partner_admin", "operator", "anonymous",
    }  # fmt: skip
    # An undeclared route checks nothing: the matrix shows it open, as it is.
    assert "anonymous" in rows["sharing GET /forgotten"].reached_by()
    assert rows["sharing GET /me"].cells["anonymous"] is Access.UNAUTHENTICATED
    assert rows["sharing POST /either/{item_id}"].reached_by() == {"partner_admin", "operator"}
    assert rows["sharing POST /either/{item_id}"].cells["lawyer"] is Access.FORBIDDEN
    assert rows["sharing POST /both"].reached_by() == frozenset()  # no role holds both
    assert rows["sharing GET /stacked"].reached_by() == {"reader", "partner_admin"}
    assert "| sharing | `GET /me` | ✓ | ✓ | ✓ | ✓ | ✓ | 401 |" in render(list(rows.values()))


def test_a_role_without_a_token_for_the_service_is_401_not_403() -> None:
    security = [{SCHEME: ["reports:submit"]}]
    assert access(security, "lifeline-intake", "submitter") is Access.REACHES
    # A partner admin's scopes give it no intake token at all; an operator's do (`admin`).
    assert access(security, "lifeline-intake", "partner_admin") is Access.UNAUTHENTICATED
    assert access(security, "lifeline-intake", "operator") is Access.FORBIDDEN
    assert access(security, None, "operator") is Access.UNAUTHENTICATED


def test_routes_outside_the_document_are_listed() -> None:
    app = _app()

    async def plain(request: Request) -> PlainTextResponse:
        return PlainTextResponse("unguarded")

    app.add_route("/plain", plain)
    assert "GET,HEAD /plain" in other_routes(app)
    assert "GET,HEAD /openapi.json" in other_routes(app)
    assert not any(r.endswith(" /open") for r in other_routes(app))  # an API route
