"""nats-server configured as `lifeline up` configures it (mutual TLS, one user per service), and
a 3-node cluster from the production bundle."""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import nats
from nats.aio.client import Client as NatsClient
from nats.errors import Error as NatsError

from libs.common import nats as natsx
from libs.common.bus import ROLES
from lifeline.bus import ensure_bus
from lifeline.bus_deploy import Node, write_bundle
from lifeline.bus_pki import BusFiles, bus_user, issue
from tests.support.natsd import NatsServer, free_port

# What a refused client or request raises: a failed handshake, an error from the server, or no
# answer (nats-server drops a denied publish and reports it to the error callback).
INTRUDER = "intruder"
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

    def settings(self, service: str) -> dict[str, Any]:
        """A service's bus settings, as `lifeline up` passes them: TLS identity, signing key."""
        return dict(self.files.settings(service))

    def violations(self, kind: str = "") -> list[str]:
        """The permission violations the server reported so far (of `kind`: publish or
        subscription), lower-cased as nats-py reports them."""
        wanted = f"permissions violation for {kind}".strip()
        return [e.lower() for e in self.errors if wanted in e.lower()]


def admit_everywhere(files: BusFiles, party: str) -> None:
    """Issue `party` a certificate of the bus's CA and a user that may publish anything and read
    every stream (the server reads its configuration at start, or again on SIGHUP)."""
    issue(files, party)
    head, users = files.config.read_text().split("authorization: ", 1)
    policy = json.loads(users)
    everything = {"publish": {"allow": [">"]}, "subscribe": {"allow": [">"]}}
    policy["users"].append({"user": bus_user(party), "permissions": everything})
    files.config.write_text(f"{head}authorization: {json.dumps(policy)}\n")


def start_secured_bus(root: Path, *, intruder: bool = False) -> SecuredBus:
    """Make the bus's PKI and configuration under `root` and start its server.

    With `intruder`, one more certificate of the CA maps to a user who may publish anything and
    read every stream: what a compromised bus (or its operator account) could do.
    """
    port = free_port()
    store = root / "nats"
    files = ensure_bus(root / "bus", host="127.0.0.1", port=port, store_dir=store, server_name="t")
    if intruder:
        admit_everywhere(files, INTRUDER)
    server = NatsServer(store, port, config=files.config)
    server.start()
    return SecuredBus(files, server)


@dataclass
class DeployCluster:
    """A 3-node cluster from a production bundle made for this machine (localhost, own ports)."""

    files: BusFiles
    ca_dir: Path
    nodes: list[Node]
    servers: list[NatsServer]

    def on(self, index: int) -> SecuredBus:
        """The bus as seen by a client of node `index`."""
        return SecuredBus(self.files, self.servers[index])

    def routes(self, index: int) -> int:
        """How many route connections node `index` holds now (its monitoring port)."""
        url = f"http://127.0.0.1:{self.nodes[index].http_port}/routez"
        return int(httpx.get(url, timeout=2).json()["num_routes"])

    def ready(self, index: int) -> bool:
        """Whether node `index` has JetStream up and current with the cluster (its /healthz)."""
        url = f"http://127.0.0.1:{self.nodes[index].http_port}/healthz"
        return httpx.get(url, timeout=2).status_code == 200

    def stop(self) -> None:
        """Stop every node still running."""
        for server in self.servers:
            server.stop()


def local_node(root: Path, name: str) -> Node:
    """A node of a bundle on this machine: loopback, ports of its own, a store under `root`."""
    return Node(name, ("localhost", "127.0.0.1"), route_host="localhost", bind="127.0.0.1",
                client_port=free_port(), cluster_port=free_port(), http_port=free_port(),
                store_dir=str(root / name))  # fmt: skip


def start_deploy_cluster(root: Path, count: int = 3) -> DeployCluster:
    """Write the bundle as `lifeline bus deploy-bundle` does, for local nodes, and start them."""
    nodes = [local_node(root / "js", f"nats-{i}") for i in range(count)]
    bundle = root / "bus"
    files = write_bundle(bundle, root / "ca", nodes, mount=str(bundle))
    servers = [
        NatsServer(Path(n.store_dir), n.client_port, bundle / f"{n.name}.conf") for n in nodes
    ]
    cluster = DeployCluster(files, root / "ca", nodes, servers)
    try:
        for server in servers:
            server.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster


def wait_for(check: Callable[[], bool], what: str, seconds: float = 10) -> None:
    """Poll `check` until it holds; fail with `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)
