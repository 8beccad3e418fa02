"""The console app: pages and assets, the API proxy, health; no database, no bus, no keys."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from libs.common.metrics import WebMetrics, install_metrics, start_listener
from libs.common.web import (
    AccessLogMiddleware,
    health_router,
    install_error_handlers,
    install_request_ids,
)
from services.console.assets import SecurityHeaders, assets_router, built
from services.console.proxy import ApiProxy, proxy_router
from services.console.settings import ConsoleSettings


def create_app(settings: ConsoleSettings) -> FastAPI:
    """Build the console; the outbound HTTP client opens in the lifespan."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        timeout = httpx.Timeout(settings.upstream_timeout_s, connect=5.0)
        # Redirects are the browser's to follow (a service never redirects to another origin).
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
            app.state.proxy = ApiProxy(settings.upstreams(), client, settings.max_body_bytes)
            app.state.readiness = {"front_end": ready}
            listener = await start_listener(metrics, settings)
            try:
                yield
            finally:
                if listener is not None:
                    await listener.stop()

    async def ready() -> str | None:
        return None if built(settings.assets_dir) else "the front end is not built"

    # The services' own API documents are served by them; this app has no API of its own.
    app = FastAPI(
        title="Lifeline console", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.add_middleware(AccessLogMiddleware)
    app.add_middleware(SecurityHeaders, https=settings.resolved_public_url().startswith("https:"))
    # Last, so outermost; /metrics is on the listener the lifespan starts, never on this app.
    metrics = install_metrics(app, WebMetrics(settings.service_name))
    install_request_ids(app)
    app.include_router(health_router())
    app.include_router(proxy_router())
    app.include_router(assets_router(settings.assets_dir))
    return app
