"""The life of every service process: seal, runtime, then what needs keys once unsealed."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from libs.common import tracing
from libs.common.auth.wiring import ServiceAuth
from libs.common.metrics import Metrics, start_listener
from libs.common.runtime import Runtime
from libs.common.seal.api import SealGate
from libs.common.settings import ServiceSettings

# Builds and starts the service's container (its key stores, consumers, relays); returns it.
Begin = Callable[[FastAPI, Runtime], Awaitable[Any]]


def service_lifespan(
    settings: ServiceSettings,
    migrations: Path,
    seal: SealGate,
    auth: ServiceAuth,
    begin: Begin,
    *,
    metrics: Metrics,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Open the seal file and the runtime; run `begin` now, or once the service is unsealed.

    Until then the HTTP side answers health, readiness (503 `sealed`) and the seal routes only;
    the metrics listener (if configured) answers from the start, sealed or not.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        traces = tracing.setup(settings.service_name, settings.otlp_endpoint)
        seal.open()
        runtime = await Runtime.open(settings, migrations, metrics)
        metrics.sealed.set_function(lambda: float(seal.sealed))
        listener = await start_listener(metrics, settings)
        app.state.runtime = runtime
        app.state.readiness = {
            **seal.readiness_checks(),
            **runtime.readiness_checks(),
            **auth.readiness_checks(),
        }

        async def started() -> None:
            app.state.container = await begin(app, runtime)

        await seal.run(runtime, started)
        try:
            yield
        finally:
            if listener is not None:
                await listener.stop()
            await runtime.close()
            close = getattr(getattr(app.state, "container", None), "aclose", None)
            if close is not None:
                await close()
            seal.close()
            tracing.shutdown(traces)

    return lifespan
