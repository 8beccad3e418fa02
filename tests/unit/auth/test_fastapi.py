"""Scope dependencies on a FastAPI app: 401 vs 403, and every route declaring its scope."""

from __future__ import annotations

from typing import Annotated

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from libs.common.auth import Principal, RevocationKind
from libs.common.auth.fastapi import PUBLIC, require_scopes, route_scopes, undeclared_routes
from libs.common.auth.scopes import Scope
from libs.common.errors import LifelineError
from tests.unit.auth.helpers import UNAUTHENTICATED, Env

Reader = Annotated[Principal, Depends(require_scopes(Scope.REPORTS_READ))]


def _app(env: Env | None) -> FastAPI:
    app = FastAPI()
    if env is not None:
        app.state.verifier = env.verifier

    @app.exception_handler(LifelineError)
    async def _render(request: Request, exc: LifelineError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.get("/reports")
    async def read_reports(principal: Reader) -> dict[str, str]:
        return {"client": principal.client_id, "org": principal.partner_id}

    @app.post(
        "/admin/keys",
        dependencies=[Depends(require_scopes(Scope.ADMIN)), Depends(require_scopes("alerts:ack"))],
    )
    async def register_key() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/healthz", dependencies=[Depends(PUBLIC)])
    async def health() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/forgotten")
    async def forgotten() -> dict[str, bool]:
        return {"ok": True}

    return app


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc")


async def test_valid_token_with_scope_reaches_the_route(env: Env) -> None:
    async with _client(_app(env)) as client:
        token = env.token(scope="reports:read")
        response = await client.get("/reports", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json() == {"client": "client-1", "org": "org-a"}


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not.a.token", "Token abc"],
)
async def test_missing_or_invalid_credentials_get_a_generic_401(
    env: Env, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    async with _client(_app(env)) as client:
        response = await client.get("/reports", headers=headers)
    assert response.status_code == 401
    assert response.json() == UNAUTHENTICATED
    assert response.headers["WWW-Authenticate"] == "Bearer"


async def test_lowercase_bearer_scheme_is_accepted(env: Env) -> None:
    async with _client(_app(env)) as client:
        token = env.token(scope="reports:read")
        response = await client.get("/reports", headers={"Authorization": f"bearer {token}"})
    assert response.status_code == 200


async def test_missing_scope_is_403(env: Env) -> None:
    async with _client(_app(env)) as client:
        token = env.token(scope="reports:submit")
        response = await client.get("/reports", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 403
        assert response.json()["code"] == "forbidden"
        assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
        # Both declared scopes are needed on the admin route.
        token = env.token(scope="admin", jti="j2")
        response = await client.post("/admin/keys", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 403
        token = env.token(scope="admin alerts:ack", jti="j3")
        response = await client.post("/admin/keys", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200


async def test_revoked_client_is_refused_on_the_next_request(env: Env) -> None:
    async with _client(_app(env)) as client:
        headers = {"Authorization": f"Bearer {env.token(scope='reports:read')}"}
        assert (await client.get("/reports", headers=headers)).status_code == 200
        env.clock.advance(1)
        env.revocations.revoke(RevocationKind.CLIENT, "client-1", env.clock())
        assert (await client.get("/reports", headers=headers)).status_code == 401


async def test_missing_verifier_is_503_not_open(env: Env) -> None:
    async with _client(_app(None)) as client:
        token = env.token(scope="reports:read")
        response = await client.get("/reports", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503


def test_every_route_can_be_checked_for_a_declared_scope() -> None:
    app = _app(None)
    scopes = route_scopes(app)
    assert scopes["GET /reports"] == {"reports:read"}
    assert scopes["POST /admin/keys"] == {"admin", "alerts:ack"}
    assert scopes["GET /healthz"] == frozenset()
    assert scopes["GET /forgotten"] is None
    assert undeclared_routes(app) == ["GET /forgotten"]


def test_scope_names_are_checked_when_routes_are_defined() -> None:
    with pytest.raises(ValueError):
        require_scopes("reports:write")
    with pytest.raises(ValueError):
        require_scopes()
