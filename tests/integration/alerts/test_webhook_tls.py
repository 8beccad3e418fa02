"""A webhook pinned to a checked address still proves, over real TLS, that it reached the name."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from services.alerts.delivery.channels.webhook import pinned
from services.alerts.delivery.pools import PinnedPools, key_of
from tests.support.tls import self_signed


@asynccontextmanager
async def _tls_receiver(certs: dict[str, tuple[Path, Path]], seen: list[str]) -> AsyncIterator[int]:
    """HTTPS on 127.0.0.1, a certificate per TLS name (the first is the default); answers 204.

    `seen` gets `tls <name>` for each handshake and `host <value>` for each request.
    """
    contexts = {}
    for name, (cert, key) in certs.items():
        contexts[name] = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        contexts[name].load_cert_chain(cert, key)

    def choose(sslobj: ssl.SSLObject, name: str | None, _: ssl.SSLContext) -> None:
        seen.append(f"tls {name}")
        if name in contexts:
            sslobj.context = contexts[name]

    default = next(iter(contexts.values()))
    default.sni_callback = choose  # type: ignore[assignment]

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:  # keep-alive: a client may send more requests on this connection
                head = (await reader.readuntil(b"\r\n\r\n")).decode()
                seen.extend(
                    "host " + line.split(":", 1)[1].strip()
                    for line in head.split("\r\n")
                    if line.lower().startswith("host:")
                )
                writer.write(b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass  # the client hung up, or refused our certificate mid-handshake
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=default)
    async with server:
        yield server.sockets[0].getsockname()[1]


def _trusted(
    names: tuple[str, ...], tmp_path: Path
) -> tuple[dict[str, tuple[Path, Path]], ssl.SSLContext]:
    """A self-signed certificate per name, and a client context that trusts each of them."""
    certs = {name: self_signed(name, tmp_path) for name in names}
    trust = ssl.create_default_context()
    for cert, _ in certs.values():
        trust.load_verify_locations(cafile=str(cert))
    return certs, trust


async def _post(http: httpx.AsyncClient, name: str, port: int) -> httpx.Response:
    url, headers, extensions = pinned(f"https://{name}:{port}/hook", "127.0.0.1")
    return await http.post(url, content=b"{}", headers=headers, extensions=extensions)


async def test_a_pinned_request_checks_the_certificate_against_the_url_name(
    tmp_path: Path,
) -> None:
    names = ("hooks.example.org", "elsewhere.example.org")
    certs, trust = _trusted(names, tmp_path)
    async with httpx.AsyncClient(verify=trust) as http:
        seen: list[str] = []
        async with _tls_receiver(certs, seen) as port:
            # Two names on one address (a CDN, say): each request has a handshake of its own.
            assert (await _post(http, names[0], port)).status_code == 204
            assert (await _post(http, names[1], port)).status_code == 204
            assert seen == [
                f"tls {names[0]}",
                f"host {names[0]}:{port}",
                f"tls {names[1]}",
                f"host {names[1]}:{port}",
            ]
        # The address serving another name's certificate, trusted as it is, is refused.
        async with _tls_receiver({names[1]: certs[names[1]]}, seen) as port:
            with pytest.raises(httpx.ConnectError, match=r"(?i)hostname|certificate"):
                await _post(http, names[0], port)


async def test_pinned_pools_keep_a_connection_alive_per_name_and_address_only(
    tmp_path: Path,
) -> None:
    names = ("hooks.example.org", "elsewhere.example.org")
    certs, trust = _trusted(names, tmp_path)
    pools = PinnedPools(lambda: httpx.AsyncClient(verify=trust))
    seen: list[str] = []
    try:
        async with _tls_receiver(certs, seen) as port:
            for name in (names[0], names[0], names[1], names[0]):
                url = f"https://{name}:{port}/hook"
                target, headers, extensions = pinned(url, "127.0.0.1", own_pool=True)
                async with pools.client(key_of(url, "127.0.0.1")) as http:
                    resp = await http.post(
                        target, content=b"{}", headers=headers, extensions=extensions
                    )
                    assert resp.status_code == 204
    finally:
        await pools.aclose()
    # The second send to a name reuses its connection; another name on the same address never
    # rides on it (a handshake of its own, with its own certificate checked).
    assert seen == [
        f"tls {names[0]}",
        f"host {names[0]}:{port}",
        f"host {names[0]}:{port}",
        f"tls {names[1]}",
        f"host {names[1]}:{port}",
        f"host {names[0]}:{port}",
    ]
