"""Outbound HTTP: one factory so every client has explicit timeouts and follows no redirects."""

from __future__ import annotations

import ssl

import httpx

_HEADERS = {"User-Agent": "lifeline/0.1"}


def _timeout(connect: float, read: float, write: float, pool: float) -> httpx.Timeout:
    return httpx.Timeout(connect=connect, read=read, write=write, pool=pool)


def make_client(
    base_url: str = "",
    *,
    connect: float = 2.0,
    read: float = 5.0,
    write: float = 5.0,
    pool: float = 2.0,
    headers: dict[str, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    verify: ssl.SSLContext | bool = True,
) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` with explicit timeouts; redirects are never followed silently."""
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=_timeout(connect, read, write, pool),
        follow_redirects=False,
        headers={**_HEADERS, **(headers or {})},
        transport=transport,
        verify=verify,
    )


def make_sync_client(
    base_url: str = "",
    *,
    verify: ssl.SSLContext | bool = True,
    connect: float = 2.0,
    read: float = 5.0,
    write: float = 5.0,
    pool: float = 2.0,
) -> httpx.Client:
    """The blocking twin of `make_client`, for code behind a synchronous interface."""
    return httpx.Client(
        base_url=base_url,
        timeout=_timeout(connect, read, write, pool),
        follow_redirects=False,
        headers=dict(_HEADERS),
        verify=verify,
    )
