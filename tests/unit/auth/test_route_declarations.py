"""Every route of every service declares its scope; only the expected ones are public."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi import APIRouter, Depends, FastAPI

from libs.common.auth.fastapi import (
    PUBLIC,
    public_routes,
    require_scopes,
    route_scopes,
    undeclared_routes,
)
from libs.common.auth.scopes import Scope
from services.alerts.app import create_app as alerts_app
from services.alerts.settings import AlertsSettings
from services.intake.app import create_app as intake_app
from services.intake.settings import IntakeSettings
from services.sharing.app import create_app as sharing_app
from services.sharing.settings import SharingSettings

APPS: dict[str, tuple[Callable[[Any], FastAPI], type[Any]]] = {
    "intake": (intake_app, IntakeSettings),
    "sharing": (sharing_app, SharingSettings),
    "alerts": (alerts_app, AlertsSettings),
}
# The seal's status and unseal routes: a sealed service cannot check a token (docs/sealing.md).
SEAL_ROUTES = {"GET /v1/sys/seal-status", "POST /v1/sys/unseal"}
# Excepted by name: health, the seal; on sharing the token endpoint, its JWKS, the public key documents
# and the bootstrap (which needs the one-time secret instead of a token); on alerts the
# acknowledgement links (authorised by the single-use token in the link itself). A new public
# route must be added here on purpose.
PUBLIC_ROUTES = {
    "intake": {"GET /healthz", "GET /readyz", *SEAL_ROUTES},
    "alerts": {
        "GET /healthz",
        "GET /readyz",
        *SEAL_ROUTES,
        "GET /v1/ack/{token}",
        "POST /v1/ack/{token}",
    },
    "sharing": {
        "GET /healthz",
        "GET /readyz",
        *SEAL_ROUTES,
        "POST /v1/auth/token",
        "GET /.well-known/jwks.json",
        "GET /.well-known/oauth-authorization-server",
        "GET /.well-known/lifeline/hpke-keys",
        "GET /.well-known/lifeline/delivery-signing-keys",
        "POST /v1/admin/bootstrap",
        # The one-time enrolment code in the body is the credential; the key stays pending.
        "POST /v1/enrol",
    },
}


def _app(name: str, tmp_path: Path) -> FastAPI:
    factory, settings = APPS[name]
    return factory(settings(data_dir=tmp_path))


@pytest.mark.parametrize("name", sorted(APPS))
def test_every_route_declares_a_scope_or_public(name: str, tmp_path: Path) -> None:
    app = _app(name, tmp_path)
    assert len(route_scopes(app)) > len(PUBLIC_ROUTES[name])  # the routes are really seen
    assert undeclared_routes(app) == []


@pytest.mark.parametrize("name", sorted(APPS))
def test_only_the_expected_routes_are_public(name: str, tmp_path: Path) -> None:
    assert set(public_routes(_app(name, tmp_path))) == PUBLIC_ROUTES[name]


@pytest.mark.parametrize("name", sorted(APPS))
def test_system_routes_are_admin_only(name: str, tmp_path: Path) -> None:
    scopes = route_scopes(_app(name, tmp_path))
    system = {route: s for route, s in scopes.items() if "/v1/system/" in route}
    assert system and all(s == {"admin"} for s in system.values())


def test_routes_inside_included_routers_are_seen() -> None:
    # FastAPI keeps an included router as one lazy entry in app.routes; the check must look in.
    router = APIRouter(prefix="/inner")

    @router.get("/open")
    async def forgotten() -> None: ...

    @router.get("/closed", dependencies=[Depends(require_scopes(Scope.REPORTS_READ))])
    async def closed() -> None: ...

    health = APIRouter()

    @health.get("/healthz")
    async def healthz() -> None: ...

    app = FastAPI()
    app.include_router(router)
    app.include_router(health, dependencies=[Depends(PUBLIC)])
    assert undeclared_routes(app) == ["GET /inner/open"]
    assert route_scopes(app)["GET /inner/closed"] == {"reports:read"}
    assert public_routes(app) == ["GET /healthz"]
