"""The production topology on this machine: a 3-node mTLS NATS cluster, two replicas of each
service on PostgreSQL (reached through a proxy the test can cut), one address per service."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tests.cluster.support.balancer import Balancer
from tests.cluster.support.procs import Replica, clean_env, code_root, venv_bin
from tests.integration.alerts.support import TcpProxy
from tests.support.bus import DeployCluster, start_deploy_cluster, wait_for
from tests.support.databases import PgScratch
from tests.support.natsd import free_port

SERVICES = ("sharing", "intake", "alerts")
REPLICAS = 2

# Run with the checkout's own code: the seal of each service's volume (development mode: the
# root key beside it, so every replica unseals itself) and sharing's first keys, which intake
# pins. What `lifeline up` does at first start, once per service data directory.
_PREPARE = """
import json, sys
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from lifeline.sealing import development_keys, holding, open_or_create
roots = {}
for d in sys.argv[1:]:
    roots[d] = open_or_create(Path(d), sealed=False, threshold=3, count=5, out=sys.stderr)
with holding(roots[sys.argv[1]]):
    print(json.dumps(development_keys(Path(sys.argv[1]))))
"""


@dataclass
class Stack:
    """Everything running, and the handles the faults use."""

    root: Path
    nats: DeployCluster
    pg_proxy: TcpProxy
    pg_server: str  # host:port of the PostgreSQL server behind the proxy
    databases: dict[str, str]
    balancers: dict[str, Balancer]
    replicas: dict[str, list[Replica]] = field(default_factory=dict)

    def url(self, service: str) -> str:
        """The service's one address (its PUBLIC_URL)."""
        return self.balancers[service].url

    def all_replicas(self) -> list[Replica]:
        """Every replica, sharing's first (the others call it)."""
        return [r for s in SERVICES for r in self.replicas.get(s, [])]

    def data_dir(self, service: str) -> Path:
        """The service's volume, which all its replicas mount."""
        return self.root / "volumes" / service


def node_ready(nats: DeployCluster, index: int) -> bool:
    """Whether a node answers and is current with the cluster (False while it starts)."""
    try:
        return nats.ready(index)
    except httpx.HTTPError:
        return False


def _prepare_volumes(root: Path) -> dict[str, str]:
    dirs = [str(root / "volumes" / s) for s in SERVICES]  # sharing's first
    for d in dirs:
        Path(d).mkdir(parents=True, mode=0o700)
    out = subprocess.run(
        [venv_bin("python"), "-c", _PREPARE, *dirs],
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd=code_root(),
        check=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def _env(stack: Stack, service: str, shared: dict[str, str], smtp_port: int) -> dict[str, str]:
    prefix = f"LIFELINE_{service.upper()}_"
    nats_urls = ",".join(f"nats://127.0.0.1:{n.client_port}" for n in stack.nats.nodes)
    values = {
        "HOST": "127.0.0.1",
        "DATA_DIR": str(stack.data_dir(service)),
        "DATABASE_URL": stack.databases[service],
        "NATS_URL": nats_urls,
        **{k.upper(): str(v) for k, v in stack.nats.files.settings(service).items()},
        "STREAM_REPLICAS": "3",
        "PUBLIC_URL": stack.url(service),
        "JSON_LOGS": "true",
        "LOG_LEVEL": "WARNING",
        **{f"{s.upper()}_URL": stack.url(s) for s in SERVICES},
    }
    if service == "alerts":
        values["WEBHOOK_ALLOW_PRIVATE"] = "true"  # the receiver is on loopback
        # The test's SMTP server (plaintext, loopback): encrypted mails carry the ack links.
        values |= {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_port), "SMTP_TLS": "none"}
    env = {prefix + k: v for k, v in values.items()}
    for key, value in shared.items():
        if key.startswith(service.upper() + "_"):
            env["LIFELINE_" + key] = value
    return env


async def start_stack(root: Path, pg: PgScratch, smtp_port: int) -> Stack:
    """Start the whole topology; return once every replica is ready."""
    nats = start_deploy_cluster(root / "nats")
    server = urlsplit(pg.server_url).netloc.rpartition("@")[2]  # host:port
    host, _, port = server.partition(":")
    pg_proxy = TcpProxy(host, int(port or 5432))
    await pg_proxy.start()
    via_proxy = f"127.0.0.1:{pg_proxy.port}"
    databases = {s: pg.take().replace(server, via_proxy) for s in SERVICES}
    ports = {s: [free_port() for _ in range(REPLICAS)] for s in SERVICES}
    stack = Stack(
        root, nats, pg_proxy, server, databases, {s: Balancer(ports[s]) for s in SERVICES}
    )
    try:
        wait_for(lambda: all(node_ready(nats, i) for i in range(3)), "no NATS cluster", 30)
        for balancer in stack.balancers.values():
            await balancer.start()
        shared = _prepare_volumes(root)
        (root / "logs").mkdir()
        for service in SERVICES:
            env = _env(stack, service, shared, smtp_port)
            stack.replicas[service] = [
                Replica(service, i, port, env, root / "logs" / f"{service}-{i}.log")
                for i, port in enumerate(ports[service])
            ]
            # Together, as a Deployment starts its pods: they agree on one schema and one set
            # of keys. Sharing first: the others call it at start.
            for replica in stack.replicas[service]:
                replica.start()
            # In a thread: the proxy and balancers it goes through run on this loop.
            await asyncio.to_thread(until_ready, stack.replicas[service])
    except BaseException:
        await stop_stack(stack, pg)
        raise
    return stack


async def stop_stack(stack: Stack, pg: PgScratch) -> None:
    """Stop everything started; drop the databases."""
    for replica in reversed(stack.all_replicas()):
        await asyncio.to_thread(replica.terminate, 15)
    for balancer in stack.balancers.values():
        await balancer.stop()
    stack.nats.stop()
    await stack.pg_proxy.stop()
    for url in stack.databases.values():
        pg.give_back(url.replace(f"127.0.0.1:{stack.pg_proxy.port}", stack.pg_server))


def until_ready(replicas: list[Replica], timeout: float = 60) -> float:
    """Wait until every given replica is ready; seconds it took."""
    began = time.monotonic()
    for replica in replicas:
        replica.wait_ready(timeout)
    return time.monotonic() - began
