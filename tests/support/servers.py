"""Run a service's real FastAPI app under uvicorn inside the test's event loop."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from tests.support.natsd import free_port


@asynccontextmanager
async def serve_app(
    create_app: Callable[[Any], FastAPI], settings: Any, *, wait_ready: bool = True
) -> AsyncIterator[tuple[str, FastAPI]]:
    """Serve the app on its settings' port; yield (base URL, app) once /readyz answers 200."""
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=settings.port, log_config=None, lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    base = f"http://127.0.0.1:{settings.port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=2) as client:
            for _ in range(300):
                if task.done():
                    task.result()
                    raise RuntimeError("server exited during start-up")
                try:
                    resp = await client.get("/readyz" if wait_ready else "/healthz")
                    if resp.status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError(f"{base} not ready")
        yield base, app
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=15)


def service_settings(
    cls: type[Any], data_dir: Any, nats_url: str, db_url: str, **extra: Any
) -> Any:
    """Settings for one in-test service instance on a random port."""
    return cls(
        data_dir=data_dir,
        nats_url=nats_url,
        database_url=db_url,
        port=free_port(),
        **extra,
    )
