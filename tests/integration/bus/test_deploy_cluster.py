"""The production bus: three nats-server nodes from the bundle `lifeline bus deploy-bundle` writes
(here for loopback names and ports), with mutual TLS to clients and between the nodes.

The threats: a client with no certificate, a stolen service certificate used beyond its role or
to join the cluster as a node (and so read every stream), and the loss of one node.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js import JetStreamContext

from libs.common import nats as natsx
from libs.common.bus import ROLES
from libs.common.events import Envelope, new_event
from libs.common.subjects import REPORT_RECEIVED, REPORT_STORED
from lifeline.bus import config_text, tls_block
from lifeline.bus_deploy import CLUSTER, ROUTES, write_bundle
from lifeline.bus_pki import BusFiles
from tests.support.bus import REFUSED, DeployCluster, local_node, wait_for
from tests.support.natsd import NatsServer
from tests.support.receivers import until


async def test_no_anonymous_client_on_any_node(cluster: DeployCluster) -> None:
    plain = {"allow_reconnect": False, "max_reconnect_attempts": 0, "connect_timeout": 2}
    trusting = ssl.create_default_context(cafile=str(cluster.files.ca))  # TLS, no certificate
    routes = natsx.tls_context(cluster.files.ca, cluster.files.cert(ROUTES),
                               cluster.files.key(ROUTES))  # fmt: skip
    for index in range(3):
        url = cluster.on(index).url
        for tls in (None, trusting, routes):  # the route certificate is no client either
            with pytest.raises(REFUSED):
                await nats.connect(url, tls=tls, **plain)


async def test_a_service_publishes_only_its_own_events_into_r3_streams(
    cluster: DeployCluster,
) -> None:
    bus = cluster.on(1)
    nc = await bus.connect_as("intake")
    js = nc.jetstream()
    try:
        await natsx.ensure_streams(js, 3, ROLES["intake"].uses(), ROLES["intake"].manages)
        event = new_event(REPORT_RECEIVED, "intake", {"probe": True})
        assert await natsx.publish(js, event, timeout=5) >= 1
        with pytest.raises(REFUSED):
            await natsx.publish(js, new_event(REPORT_STORED, "intake", {}), timeout=0.5)
        info = await js.stream_info("LIFELINE_RECEIVED")
        assert info.config.num_replicas == 3
    finally:
        await nc.close()
    assert any(REPORT_STORED in v for v in bus.violations("publish")), bus.errors


async def test_an_r3_stream_survives_its_leader_stopped(cluster: DeployCluster) -> None:
    nc = await cluster.on(0).connect_as("intake")
    try:
        js = nc.jetstream()
        await natsx.ensure_streams(js, 3, ROLES["intake"].uses(), ROLES["intake"].manages)
        await natsx.publish(js, new_event(REPORT_RECEIVED, "intake", {"n": 1}), timeout=5)
        info = await js.stream_info("LIFELINE_RECEIVED")
        assert info.cluster is not None and info.cluster.leader is not None
        leader = int(info.cluster.leader.removeprefix("nats-"))
    finally:
        await nc.close()
    cluster.servers[leader].stop()
    survivor = cluster.on((leader + 1) % 3)
    nc = await survivor.connect_as("intake")
    try:
        js = nc.jetstream()
        # A new leader is elected among the two left: a publish is acked once it is.
        for _ in range(50):
            try:
                await natsx.publish(js, new_event(REPORT_RECEIVED, "intake", {"n": 2}), timeout=1)
                break
            except REFUSED:
                await asyncio.sleep(0.2)
        info = await js.stream_info("LIFELINE_RECEIVED")
        assert info.state.messages == 2
        assert info.cluster is not None and info.cluster.leader != f"nats-{leader}"
    finally:
        await nc.close()


async def test_raising_the_replicas_setting_scales_the_streams_a_service_manages(
    cluster: DeployCluster, caplog: pytest.LogCaptureFixture
) -> None:
    intake = ROLES["intake"]
    nc = await cluster.on(0).connect_as("intake")
    js = nc.jetstream()

    async def replicas() -> dict[str, int]:
        return {
            s.name: (await js.stream_info(s.name)).config.num_replicas or 1 for s in intake.uses()
        }

    try:
        await natsx.ensure_streams(js, 1, intake.uses(), intake.manages)
        assert set((await replicas()).values()) == {1}
        caplog.set_level(logging.INFO, logger=natsx.__name__)
        await natsx.ensure_streams(js, 3, intake.uses(), intake.manages)
        # LIFELINE_REPORTS and LIFELINE_AUTH are sharing's to manage: intake only reads them.
        assert await replicas() == {"LIFELINE_RECEIVED": 3, "LIFELINE_SYSTEM": 3,
                                    "LIFELINE_REPORTS": 1, "LIFELINE_AUTH": 1}  # fmt: skip
        updated = [r for r in caplog.records if r.getMessage() == "stream config updated"]
        assert {(getattr(r, "stream", ""), getattr(r, "changed", "")) for r in updated} == {
            ("LIFELINE_RECEIVED", "num_replicas 1->3"),
            ("LIFELINE_SYSTEM", "num_replicas 1->3"),
        }
        # More replicas than nodes: said in the log; the streams and the caller carry on.
        await natsx.ensure_streams(js, 5, intake.uses(), intake.manages)
        refused = [r for r in caplog.records if r.getMessage().startswith("stream config not")]
        assert {(getattr(r, "stream", ""), getattr(r, "changed", "")) for r in refused} == {
            ("LIFELINE_RECEIVED", "num_replicas 3->5"),
            ("LIFELINE_SYSTEM", "num_replicas 3->5"),
        }
        assert all(r.levelno == logging.ERROR and getattr(r, "reason", "") for r in refused)
        assert (await replicas())["LIFELINE_RECEIVED"] == 3
        # and publishing goes on (the first publish after a resize may time out while the new
        # peers join; publishers retry, and `Nats-Msg-Id` stores a retried event once)
        event = new_event(REPORT_RECEIVED, "intake", {})
        assert await until(lambda: _published(js, event), timeout=10)
    finally:
        await nc.close()


async def _published(js: JetStreamContext, event: Envelope) -> bool:
    try:
        await natsx.publish(js, event, timeout=1)
    except REFUSED:
        return False
    return True


def _rogue(cluster: DeployCluster, root: Path, name: str, identity: BusFiles | None) -> NatsServer:
    """A node dialling the cluster's routes with `identity`'s route certificate (None: no TLS)."""
    node = local_node(root / "js", name)
    block: dict[str, Any] = {
        "name": CLUSTER,
        "listen": f"127.0.0.1:{node.cluster_port}",
        "routes": [f"nats-route://{n.route_host}:{n.cluster_port}" for n in cluster.nodes],
    }
    if identity is not None:
        block["tls"] = tls_block(str(identity.cert(ROUTES)), str(identity.key(ROUTES)),
                                 str(cluster.files.ca))  # fmt: skip
    conf = root / f"{name}.conf"
    conf.write_text(config_text({
        "server_name": name,
        "listen": f"127.0.0.1:{node.client_port}",
        "http": f"127.0.0.1:{node.http_port}",
        "cluster": block,
    }))  # fmt: skip
    cluster.nodes.append(node)  # so that `routes` can ask it
    cluster.servers.append(NatsServer(root, node.client_port, conf))
    return cluster.servers[-1]


def test_only_a_node_with_the_route_certificate_joins(
    cluster: DeployCluster, tmp_path: Path
) -> None:
    # A stolen service certificate of the same CA, a route certificate of another CA, no TLS.
    stolen = tmp_path / "stolen"
    stolen.mkdir()
    for suffix in (".pem", "-key.pem"):
        (stolen / f"{ROUTES}{suffix}").write_bytes(
            (cluster.files.root / f"intake{suffix}").read_bytes()
        )
    foreign = write_bundle(tmp_path / "other" / "bus", tmp_path / "other" / "ca", cluster.nodes)
    before = [cluster.routes(i) for i in range(3)]
    for name, identity in (("rogue-a", BusFiles(stolen)), ("rogue-b", foreign), ("rogue-c", None)):
        (tmp_path / name).mkdir()
        _rogue(cluster, tmp_path / name, name, identity).start()
    time.sleep(3)  # routes are dialled at once and again every second
    assert [cluster.routes(i) for i in range(3, 6)] == [0, 0, 0]
    assert [cluster.routes(i) for i in range(3)] == before
    # and the same node with the real route certificate does join: the refusals were the TLS
    (tmp_path / "node").mkdir()
    _rogue(cluster, tmp_path / "node", "nats-3", cluster.files).start()
    wait_for(lambda: cluster.routes(6) > 0, "a node with the route certificate did not join")


async def test_renewing_one_service_leaves_the_others_working(cluster: DeployCluster) -> None:
    files = cluster.files
    kept = {p: (files.cert(p).read_bytes(), files.key(p).read_bytes())
            for p in ("sharing", "alerts", ROUTES, *(n.name for n in cluster.nodes))}  # fmt: skip
    old_key = files.key("intake").read_bytes()
    # What `lifeline bus deploy-bundle --renew intake` does, for this cluster's node names.
    write_bundle(files.root, cluster.ca_dir, cluster.nodes, mount=str(files.root), renew={"intake"})
    assert files.key("intake").read_bytes() != old_key
    assert {p: (files.cert(p).read_bytes(), files.key(p).read_bytes()) for p in kept} == kept
    for service in ROLES:  # the nodes need no restart: the CA is the same
        nc = await cluster.on(2).connect_as(service)
        await nc.close()
