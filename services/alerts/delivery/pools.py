"""Kept-alive connections for pinned sends: one pool per (name, checked address).

A pinned send connects to an address just checked (`outbound.pinned`) and checks the server's
certificate against the URL's name. httpcore keys its pooled connections by the address alone,
so a shared pool could carry a request for one name over a TLS session opened for another (two
names on one CDN address): pinned requests on the shared client close their connection. Here
each (scheme, name, port, address) has a client of its own instead: a connection it keeps alive
was opened to that very address with that name's certificate, so a later send that resolves
and checks the name again, finds that address among the answer and reuses it is the send a new
connection would have made, without the TCP and TLS handshakes.
"""

from __future__ import annotations

import collections
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx

Key = tuple[str, str, int, str]  # scheme, name, port, address


class PinnedPools:
    """At most `size` idle clients (least recently used closed first), each for one key."""

    def __init__(self, factory: Callable[[], httpx.AsyncClient], *, size: int = 32) -> None:
        self.factory = factory
        self.size = size
        self._clients: collections.OrderedDict[Key, httpx.AsyncClient] = collections.OrderedDict()
        self._busy: collections.Counter[Key] = collections.Counter()

    @asynccontextmanager
    async def client(self, key: Key) -> AsyncIterator[httpx.AsyncClient]:
        """The client of `key` (created on first use), held for one request."""
        http = self._clients.get(key)
        if http is None:
            http = self._clients[key] = self.factory()
            await self._trim()
        self._clients.move_to_end(key)
        self._busy[key] += 1
        try:
            yield http
        finally:
            self._busy[key] -= 1
            if self._busy[key] <= 0:
                del self._busy[key]

    async def _trim(self) -> None:
        """Close the least recently used idle clients beyond `size` (one in use stays open)."""
        for key in list(self._clients):
            if len(self._clients) <= self.size:
                return
            if not self._busy[key]:
                await self._clients.pop(key).aclose()

    async def aclose(self) -> None:
        """Close every client."""
        while self._clients:
            await self._clients.popitem()[1].aclose()


def key_of(url: str, address: str) -> Key:
    """The pool key of a send to `url` pinned to `address`."""
    parts = httpx.URL(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return parts.scheme, parts.host.lower(), port, address
