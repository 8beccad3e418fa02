"""The alerts service: FastAPI application factory and lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI

from libs.common.auth.fastapi import PUBLIC, require_scopes
from libs.common.auth.scopes import Audience, Scope
from libs.common.auth.wiring import install_auth, jwks_over_http
from libs.common.events import SYSTEM_PING
from libs.common.nats import ConsumerSpec
from libs.common.runtime import Runtime
from libs.common.system import dead_letter_sink, ping_handler, system_router
from libs.common.web import (
    BodyLimitMiddleware,
    health_router,
    install_access_log,
    install_error_handlers,
)
from services.alerts import components as wiring
from services.alerts.api import router as api_router
from services.alerts.api_ack import router as ack_router
from services.alerts.models import DeadLetter, ProcessedEvent
from services.alerts.settings import AlertsSettings

MIGRATIONS = Path(__file__).parent / "migrations"
INBOX = ProcessedEvent.__table__  # type: ignore[attr-defined]
DEAD_LETTERS = DeadLetter.__table__  # type: ignore[attr-defined]


async def _wire_nats(runtime: Runtime) -> None:
    await runtime.consume(
        ConsumerSpec(durable="alerts-system", filter_subject=SYSTEM_PING),
        ping_handler(runtime, INBOX),
        dead_letter_sink(runtime, DEAD_LETTERS),
    )


def create_app(settings: AlertsSettings) -> FastAPI:
    """Build the alerts app; resources open in the lifespan and close on shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await Runtime.open(settings, MIGRATIONS)
        app.state.runtime = runtime
        app.state.readiness = {**runtime.readiness_checks(), **auth.readiness_checks()}
        auth.start(runtime)
        alerts = wiring.build(settings, runtime)
        app.state.alerts = alerts
        wiring.start(alerts, runtime)

        async def wire(rt: Runtime) -> None:
            await _wire_nats(rt)
            await wiring.wire_consumers(alerts, rt)

        runtime.start_nats(wire)
        try:
            yield
        finally:
            await runtime.close()
            await alerts.aclose()

    app = FastAPI(
        title="Lifeline alerts",
        description=(
            "Watchlists, matching, alert delivery, acknowledgement and es"
            "calation for rapid-response lawyers."
        ),
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    install_access_log(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    auth = install_auth(
        app,
        audience=Audience.ALERTS,
        issuer=settings.token_issuer,
        fetch=jwks_over_http(settings.sharing_url),
    )
    app.include_router(health_router(), dependencies=[Depends(PUBLIC)])
    app.include_router(system_router(INBOX, [Depends(require_scopes(Scope.ADMIN))]))
    app.include_router(api_router)
    app.include_router(ack_router)
    return app
