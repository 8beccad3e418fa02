"""Run one service process under uvicorn (uvloop + httptools), as `python -m services.<name>`."""

from __future__ import annotations

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
