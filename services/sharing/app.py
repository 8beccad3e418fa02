"""The sharing service: FastAPI application factory and lifespan."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI

from libs.common.auth.fastapi import PUBLIC, require_scopes
from libs.common.auth.jwks import JwksFetch
from libs.common.auth.scopes import Audience, Scope
from libs.common.auth.verifier import TokenVerifier
from libs.common.auth.wiring import install_auth
from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.idempotent_routes import install_idempotency
from libs.common.lifespan import service_lifespan
from libs.common.metrics import Metrics, install_metrics
from libs.common.reports.fields import CATALOGUE, Catalogue
from libs.common.runtime import Runtime
from libs.common.seal.api import install_seal
from libs.common.system import system_router
from libs.common.tracing import TraceMiddleware
from libs.common.web import (
    BodyLimitMiddleware,
    health_router,
    install_access_log,
    install_error_handlers,
    install_request_ids,
)
from services.sharing import deps
from services.sharing.access import api as access_api
from services.sharing.access.enrolment import api as enrolment_api
from services.sharing.access.tokens import api as tokens_api
from services.sharing.approvals import api as approvals_api
from services.sharing.audit import api as audit_api
from services.sharing.container import Container, build_container, start
from services.sharing.identity import api as identity_api
from services.sharing.models import IDEMPOTENCY_KEYS, INBOX
from services.sharing.retention import api as retention_api
from services.sharing.seizure import api as seizure_api
from services.sharing.settings import SharingSettings
from services.sharing.vault import api as vault_api
from services.sharing.vault.delivery import api as delivery_api
from services.sharing.vault.exports import api as exports_api
from services.sharing.vault.keys import api as keys_api
from services.sharing.vault.policy import api as policy_api
from services.sharing.vault.releases import api as releases_api

MIGRATIONS = Path(__file__).parent / "migrations"


def _own_jwks(app: FastAPI) -> JwksFetch:
    """Sharing verifies its own tokens from its keyring file: no HTTP to itself."""

    async def fetch() -> Mapping[str, Any]:
        return deps.container_of(app).keystore.jwks()

    return fetch


def _revoked_here(app: FastAPI) -> Callable[[dict[str, Any]], None]:
    """Applies a revocation to the verifier this app checks tokens with, at once."""

    def apply(data: dict[str, Any]) -> None:
        # Looked up on each call: the verifier on app.state is the one requests are checked with.
        verifier: TokenVerifier = app.state.verifier
        verifier.revocations.apply(data)

    return apply


def create_app(
    settings: SharingSettings,
    *,
    catalogue: Catalogue = CATALOGUE,
    clock: Clock = SYSTEM_CLOCK,
) -> FastAPI:
    """Build the sharing app; resources open in the lifespan and close on shutdown.

    `catalogue` is the report fields this process knows (a test grows it, as a later version
    of the code would); `clock` is where every use case reads the time (tests move a fake one).
    """

    async def begin(app: FastAPI, runtime: Runtime) -> Container:
        container = await build_container(
            settings, runtime, on_revoked=_revoked_here(app), clock=clock, catalogue=catalogue
        )
        start(container, auth)
        return container

    def lifespan(app: FastAPI) -> AbstractAsyncContextManager[None]:
        return service_lifespan(settings, MIGRATIONS, seal, auth, begin, metrics=metrics)(app)

    # No /docs or /redoc: FastAPI's pages load Swagger UI from a CDN. The console serves the
    # documents at /docs/<service> with assets of its own.
    app = FastAPI(
        docs_url=None,
        redoc_url=None,
        title="Lifeline sharing",
        description=(
            "The vault: partner registry, access tokens, sharing policies"
            " and the encrypted report store."
        ),
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    install_idempotency(app, ttl_s=settings.idempotency_ttl_s, table=IDEMPOTENCY_KEYS, clock=clock)
    install_access_log(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    seal = install_seal(app, settings)
    auth = install_auth(
        app,
        audience=Audience.SHARING,
        issuer=settings.token_issuer,
        fetch=_own_jwks(app),
        # The keyring is a local file (shared with the other replicas): re-reading it is cheap.
        refresh_every=5.0,
        max_staleness=settings.revocation_max_staleness_s,
        min_refresh_interval=1.0,
    )
    # Last, so outermost: it times whatever the middlewares above answer too.
    metrics = install_metrics(app, Metrics(settings.service_name))
    # Outside all but the request id: the span holds everything below, metrics included.
    app.add_middleware(TraceMiddleware, service=settings.service_name)
    install_request_ids(app)
    app.include_router(health_router(), dependencies=[Depends(PUBLIC)])
    app.include_router(system_router(INBOX, [Depends(require_scopes(Scope.ADMIN))]))
    for router in (
        tokens_api.router,
        access_api.router,
        enrolment_api.router,
        audit_api.router,
        keys_api.well_known,
        identity_api.router,
        identity_api.admin,
        vault_api.router,
        delivery_api.router,
        exports_api.router,
        policy_api.router,
        releases_api.router,
        keys_api.router,
        seizure_api.router,
        approvals_api.router,
        retention_api.router,
    ):
        app.include_router(router)
    return app
