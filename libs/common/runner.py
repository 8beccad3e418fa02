"""Run one service process under uvicorn (uvloop + httptools), as `python -m services.<name>`."""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from typing import TypeVar

import uvicorn
from fastapi import FastAPI

from libs.common.logging import configure_logging
from libs.common.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def serve(create_app: Callable[[S], FastAPI], settings: S) -> None:
    """Configure logging, build the app once, and serve until SIGINT/SIGTERM."""
    # Whatever this process creates (SQLite files and their WAL, keys, caches) is its owner's
    # alone: a disk copied by another account of the machine reads nothing.
    os.umask(0o077)
    configure_logging(
        json_logs=settings.json_logs, level=settings.log_level, service=settings.service_name
    )
    app = create_app(settings)
    settle()
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        loop="uvloop",
        http="httptools",
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=5,
    )
    uvicorn.Server(config).run()


def settle() -> None:
    """Hide what start-up built from the cyclic collector for the process's life."""
    # Modules, settings and the app (~10^5 objects in each service) live as long as the
    # process; a full collection walked them all, a pause of ~30 ms in whatever request or
    # page was running. Collected first, so no start-up garbage is kept for ever.
    gc.collect()
    gc.freeze()
