"""Run a service's real app in the test's process and event loop, with no socket at all.

The app's own lifespan runs (database, migrations, NATS, background tasks), and requests reach
it through `httpx.ASGITransport`. Each in-process service gets a URL of its own on the
`.inproc` pseudo domain (its settings' `public_url`): any `httpx.AsyncClient` of this process,
the tests' and the services' own outbound clients alike (intake fetching sharing's sealing key,
intake and alerts fetching sharing's JWKS), reaches the app behind such a URL in process, and
every other URL over the network as before. So a test and the services talk to an in-process
service exactly as they would to one on a port, and nothing in the services knows.

Use it where a test is about behaviour; keep `serve_app` (real uvicorn) where it is about the
wire, a crash, a restart, or a client running outside this event loop (a CLI subprocess or a
thread with a loop of its own).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.types import ASGIApp

DOMAIN = "inproc"
_APPS: dict[str, ASGIApp] = {}
_NUMBERS = itertools.count(1)
_network_send = httpx.AsyncHTTPTransport.handle_async_request


async def _route(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
    """The network transport, except for `.inproc` hosts: those go to their app in process."""
    host = request.url.host
    app = _APPS.get(host)
    if app is None:
        if host.endswith("." + DOMAIN):
            # A service that stopped: refused at once, as its closed port would be.
            raise httpx.ConnectError(f"{host} is not running", request=request)
        return await _network_send(self, request)
    # As on the wire: an unhandled error is the 500 the server sends, not an exception here.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    return await transport.handle_async_request(request)


def inproc_url(name: str) -> str:
    """A fresh base URL for an in-process service (unique in this test session).

    https: the SDK accepts plain http only on loopback. No TLS happens, nor is it needed: the
    request never leaves the process.
    """
    return f"https://{name}-{next(_NUMBERS)}.{DOMAIN}"


def is_in_process(settings: Any) -> bool:
    """True for settings whose `public_url` is an in-process URL."""
    return bool(settings.public_url) and httpx.URL(settings.public_url).host.endswith("." + DOMAIN)


def _host(url: str) -> str:
    host = httpx.URL(url).host
    if not host.endswith("." + DOMAIN):
        raise ValueError(f"{url} is not an in-process URL (see inproc_url)")
    return host


def _install_routing() -> None:
    # Once per process; URLs of other hosts keep going over the network.
    if httpx.AsyncHTTPTransport.handle_async_request is not _route:
        httpx.AsyncHTTPTransport.handle_async_request = _route  # type: ignore[method-assign]


async def until_ready(
    url: str, *, path: str = "/readyz", timeout: float = 30.0, task: asyncio.Task[Any] | None = None
) -> None:
    """Poll `path` until it answers 200 (every 10 ms; the app's checks are cheap)."""
    deadline = asyncio.get_running_loop().time() + timeout
    async with httpx.AsyncClient(base_url=url, timeout=5) as client:
        while True:
            if task is not None and task.done():
                task.result()
                raise RuntimeError(f"{url} exited during start-up")
            try:
                if (await client.get(path)).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise RuntimeError(f"{url} not ready in {timeout} s")
            await asyncio.sleep(0.01)


@asynccontextmanager
async def serve_in_process(
    create_app: Callable[[Any], FastAPI], settings: Any, *, wait_ready: bool = True
) -> AsyncIterator[tuple[str, FastAPI]]:
    """Run the app's lifespan; yield (its `public_url`, app) once /readyz answers 200.

    Same contract as `servers.serve_app`, without uvicorn: the settings' `public_url` (from
    `inproc_url`) is where clients reach it.
    """
    url = settings.public_url
    host = _host(url)
    app = create_app(settings)
    _install_routing()
    async with app.router.lifespan_context(app):
        _APPS[host] = app
        try:
            await until_ready(url, path="/readyz" if wait_ready else "/healthz")
            yield url, app
        finally:
            del _APPS[host]


@asynccontextmanager
async def mounted(name: str, app: ASGIApp) -> AsyncIterator[str]:
    """A bare ASGI app (no lifespan: a test's front before a service) at a fresh URL."""
    url = inproc_url(name)
    _install_routing()
    _APPS[_host(url)] = app
    try:
        yield url
    finally:
        _APPS.pop(_host(url), None)


def set_reachable(url: str, app: ASGIApp | None) -> None:
    """Put `app` at `url`, or with None take it away: requests are refused as by a closed port."""
    if app is None:
        _APPS.pop(_host(url), None)
    else:
        _APPS[_host(url)] = app
