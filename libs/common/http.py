"""Outbound HTTP: one factory so every client has explicit timeouts and follows no redirects."""

from __future__ import annotations

import httpx


def make_client(
    base_url: str = "",
    *,
    connect: float = 2.0,
    read: float = 5.0,
    write: float = 5.0,
    pool: float = 2.0,
    headers: dict[str, str] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """An `httpx.AsyncClient` with explicit timeouts; redirects are never followed silently."""
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=httpx.Timeout(connect=connect, read=read, write=write, pool=pool),
        follow_redirects=False,
        headers={"User-Agent": "lifeline/0.1", **(headers or {})},
        transport=transport,
    )
