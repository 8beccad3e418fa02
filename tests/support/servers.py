"""Run a service's real FastAPI app: under uvicorn on a port, or in process (see `inproc`)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import uvicorn
from fastapi import FastAPI

from tests.support.inproc import inproc_url, is_in_process, serve_in_process, until_ready
from tests.support.natsd import remember_port

# Ports bound (not listening yet) by this process until serve_app listens on them.
_RESERVED: dict[int, socket.socket] = {}


def reserve_port() -> int:
    """A port bound here until `serve_app` serves on it: no other process can take it meanwhile.

    `free_port` only picks a port nobody listens on *now*; between that and uvicorn's bind
    another process may take it. A reserved port is handed to uvicorn as the bound socket.
    """
    sock = _bind(0)
    port = int(sock.getsockname()[1])
    remember_port(port)
    _RESERVED[port] = sock
    return port


def take_reserved(port: int) -> socket.socket | None:
    """The bound socket of a reserved port, for a server to listen on (None if not reserved)."""
    return _RESERVED.pop(port, None)


def reserve_again(port: int) -> None:
    """Hold `port` again once its server stopped: connections are refused, nobody takes it."""
    _RESERVED[port] = _bind(port)


def release(port: int) -> None:
    """Give a reserved port back."""
    sock = _RESERVED.pop(port, None)
    if sock is not None:
        sock.close()


def _bind(port: int) -> socket.socket:
    # proto=IPPROTO_TCP as asyncio's own server sockets have it: only then does asyncio set
    # TCP_NODELAY on accepted connections (without it every response waits ~40 ms for an ACK).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


@asynccontextmanager
async def serve_app(
    create_app: Callable[[Any], FastAPI], settings: Any, *, wait_ready: bool = True
) -> AsyncIterator[tuple[str, FastAPI]]:
    """Serve the app on its settings' port; yield (base URL, app) once /readyz answers 200."""
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=settings.port, log_config=None, lifespan="on")
    )
    # A reserved port comes as its bound socket; a restart on the same port binds it again.
    sock = take_reserved(settings.port)
    task = asyncio.create_task(server.serve(sockets=[sock] if sock else None))
    base = f"http://127.0.0.1:{settings.port}"
    try:
        await until_ready(base, path="/readyz" if wait_ready else "/healthz", task=task)
        yield base, app
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=15)


def serve(
    create_app: Callable[[Any], FastAPI], settings: Any, *, wait_ready: bool = True
) -> AbstractAsyncContextManager[tuple[str, FastAPI]]:
    """`serve_in_process` for settings made by `in_process_settings`, else `serve_app`."""
    if is_in_process(settings):
        return serve_in_process(create_app, settings, wait_ready=wait_ready)
    return serve_app(create_app, settings, wait_ready=wait_ready)


def service_settings(
    cls: type[Any], data_dir: Any, nats_url: str, db_url: str, **extra: Any
) -> Any:
    """Settings for one in-test service instance served by uvicorn on a reserved port."""
    return cls(
        data_dir=data_dir,
        nats_url=nats_url,
        database_url=db_url,
        port=reserve_port(),
        **extra,
    )


def in_process_settings(
    cls: type[Any], data_dir: Any, nats_url: str, db_url: str, **extra: Any
) -> Any:
    """Settings for one in-test service instance run in process at a fresh `.inproc` URL."""
    name = cls.model_fields["service_name"].default
    return cls(
        data_dir=data_dir,
        nats_url=nats_url,
        database_url=db_url,
        public_url=inproc_url(name),
        **extra,
    )
