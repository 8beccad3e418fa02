"""A service's one address in front of its replicas, as a Kubernetes Service or compose's DNS
round robin gives it: each new connection goes to the next replica that accepts it."""

from __future__ import annotations

import asyncio
import itertools

from tests.support.natsd import free_port


async def _pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
    try:
        while data := await src.read(65536):
            dst.write(data)
            await dst.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        dst.transport.abort()


class Balancer:
    """Round robin over replica ports; a replica that refuses is skipped (it is restarting)."""

    def __init__(self, ports: list[int]) -> None:
        self.ports = ports
        self.port = free_port()
        self._next = itertools.cycle(range(len(ports)))
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        """The service's address (every replica's PUBLIC_URL)."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        for _ in self.ports:
            port = self.ports[next(self._next)]
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
            except OSError:
                continue
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
            return
        writer.transport.abort()  # no replica accepts: what a client of a Service sees too
