"""A nats-server configured as `lifeline up` configures it: mutual TLS, one user per service."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nats
from nats.aio.client import Client as NatsClient
from nats.errors import Error as NatsError

from libs.common import nats as natsx
from libs.common.bus import ROLES
from lifeline.bus import BusFiles, ensure_bus
from tests.support.natsd import NatsServer, free_port

# What a refused client or request raises: a failed handshake, an error from the server, or no
# answer (nats-server drops a denied publish and reports it to the error callback).
REFUSED = (OSError, ssl.SSLError, NatsError, TimeoutError, asyncio.TimeoutError)


@dataclass
class SecuredBus:
    """The bus's files and its running server; clients connect as one of the services."""

    files: BusFiles
    server: NatsServer
    errors: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        """Client URL (TLS is required by the server)."""
        return self.server.url

    def tls(self, service: str) -> ssl.SSLContext:
        """The mutual-TLS context of `service`'s bus identity."""
        return natsx.tls_context(self.files.ca, self.files.cert(service), self.files.key(service))

    async def connect_as(self, service: str, **options: Any) -> NatsClient:
        """A client with `service`'s certificate and inbox prefix; errors land in `errors`."""

        async def on_error(exc: Exception) -> None:
            self.errors.append(str(exc))

        defaults: dict[str, Any] = {
            "tls": self.tls(service),
            "inbox_prefix": ROLES[service].inbox_prefix,
            "error_cb": on_error,
            "allow_reconnect": False,
            "connect_timeout": 2,
        }
        return await nats.connect(self.url, **{**defaults, **options})

    def violations(self, kind: str = "") -> list[str]:
        """The permission violations the server reported so far (of `kind`: publish or
        subscription), lower-cased as nats-py reports them."""
        wanted = f"permissions violation for {kind}".strip()
        return [e.lower() for e in self.errors if wanted in e.lower()]


def start_secured_bus(root: Path) -> SecuredBus:
    """Make the bus's PKI and configuration under `root` and start its server."""
    port = free_port()
    store = root / "nats"
    files = ensure_bus(root / "bus", host="127.0.0.1", port=port, store_dir=store, server_name="t")
    server = NatsServer(store, port, config=files.config)
    server.start()
    return SecuredBus(files, server)
