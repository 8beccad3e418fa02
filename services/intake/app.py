"""The intake service: FastAPI application factory and lifespan."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from pathlib import Path

from fastapi import Depends, FastAPI

from libs.common.auth.fastapi import PUBLIC
from libs.common.auth.scopes import Audience
from libs.common.auth.wiring import install_auth, jwks_over_http
from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.idempotent_routes import install_idempotency
from libs.common.lifespan import service_lifespan
from libs.common.metrics import Metrics, install_metrics
from libs.common.runtime import Runtime
from libs.common.seal.api import install_seal
from libs.common.tracing import TraceMiddleware
from libs.common.web import (
    BodyLimitMiddleware,
    health_router,
    install_access_log,
    install_error_handlers,
    install_request_ids,
)
from services.intake.api import router
from services.intake.container import Container, build_container, start
from services.intake.models import IDEMPOTENCY_KEYS
from services.intake.settings import IntakeSettings

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: IntakeSettings, clock: Clock = SYSTEM_CLOCK) -> FastAPI:
    """Build the intake app; resources open in the lifespan and close on shutdown.

    Receipt times, the sealing key's cache and the rate limit read `clock`.
    """

    async def begin(app: FastAPI, runtime: Runtime) -> Container:
        auth.start(runtime)
        container = build_container(settings, runtime, clock)
        start(container)
        return container

    def lifespan(app: FastAPI) -> AbstractAsyncContextManager[None]:
        return service_lifespan(settings, MIGRATIONS, seal, auth, begin, metrics=metrics)(app)

    # No /docs or /redoc: FastAPI's pages load Swagger UI from a CDN. The console serves the
    # documents at /docs/<service> with assets of its own.
    app = FastAPI(
        docs_url=None,
        redoc_url=None,
        title="Lifeline intake",
        description="The write-only front door for partner incident reports.",
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
        audience=Audience.INTAKE,
        issuer=settings.token_issuer,
        fetch=jwks_over_http(settings.sharing_url),
        max_staleness=settings.revocation_max_staleness_s,
    )
    # Last, so outermost: it times whatever the middlewares above answer too.
    metrics = install_metrics(app, Metrics(settings.service_name))
    # Outside all but the request id: the span holds everything below, metrics included.
    app.add_middleware(TraceMiddleware, service=settings.service_name)
    install_request_ids(app)
    app.include_router(health_router(), dependencies=[Depends(PUBLIC)])
    app.include_router(router)
    return app
