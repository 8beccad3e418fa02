"""A node of the production cluster that goes silent (frozen: its sockets stay open, nothing
answers): a service on it says it is not ready at once, moves to another node within seconds and
goes on publishing and consuming there."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nats.js import JetStreamContext

from libs.common import db
from libs.common import nats as natsx
from libs.common.consumer import DeadLetter
from libs.common.events import Envelope, new_event
from libs.common.provenance import EventSigner, EventVerifier
from libs.common.runtime import Runtime
from libs.common.settings import ServiceSettings
from libs.common.subjects import REPORT_RECEIVED, REPORT_STORED
from libs.common.web import ReadinessCheck
from tests.support.bus import REFUSED, DeployCluster
from tests.support.receivers import until


async def _intake(cluster: DeployCluster, tmp_path: Path, received: list[str]) -> Runtime:
    """Intake's runtime on the three nodes, consuming its receipts into `received`."""
    files: dict[str, Any] = dict(cluster.files.settings("intake"))
    settings = ServiceSettings(
        service_name="intake",
        nats_url=",".join(server.url for server in cluster.servers),
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'intake.db'}",
        stream_replicas=3,
        nats_ping_interval_s=1.0,  # 5 s in production: the same 2 pings, sooner
        **files,
    )
    engine = db.create_engine(settings.resolved_database_url())
    runtime = Runtime(settings, engine, db.session_factory(engine),
                      verifier=EventVerifier.load(files["nats_ca_file"]))  # fmt: skip

    async def handle(event: Envelope) -> None:
        received.append(event.id)

    async def dead_letter(letter: DeadLetter) -> None:
        raise AssertionError(letter.reason)

    async def setup(rt: Runtime) -> None:
        await rt.consume(natsx.ConsumerSpec.granted("intake", "intake-receipts"), handle,
                         dead_letter)  # fmt: skip

    runtime.start_nats(setup)
    return runtime


async def test_a_frozen_node_is_noticed_and_left_for_another(
    cluster: DeployCluster, tmp_path: Path
) -> None:
    received: list[str] = []
    runtime = await _intake(cluster, tmp_path, received)
    ready = runtime.readiness_checks()["nats"]
    sharing = None
    frozen = None
    try:
        assert await until(lambda: _is(ready, None), timeout=20), "never ready"
        assert runtime.nc is not None and runtime.nc.connected_url is not None
        on = next(i for i, s in enumerate(cluster.servers)
                  if s.port == runtime.nc.connected_url.port)  # fmt: skip
        other = (on + 1) % 3
        sharing = await cluster.on(other).connect_as("sharing")
        signer = EventSigner.load(cluster.files.event_key("sharing"),
                                  cluster.files.event_cert("sharing"))  # fmt: skip
        first = new_event(REPORT_STORED, "sharing", {})
        await natsx.publish(sharing.jetstream(), first, timeout=5, signer=signer)
        assert await until(lambda: first.id in received, timeout=10)

        frozen = cluster.servers[on]
        frozen.pause()
        # Readiness asks the server for a round trip, which a frozen one never makes.
        assert await until(lambda: _not_ready(ready), timeout=5)
        # Two unanswered pings later the client drops it and connects to another node.
        assert await until(
            lambda: (
                runtime.nc is not None
                and runtime.nc.connected_url is not None
                and runtime.nc.connected_url.port != frozen.port
                and runtime.nc.is_connected
            ),
            timeout=15,
        ), "still on the frozen node"
        assert await until(lambda: _is(ready, None), timeout=5)

        # Publishing and consuming go on (a new leader may be elected meanwhile for each
        # stream the frozen node led: report.received and report.stored are on two streams).
        assert runtime.js is not None
        mine = new_event(REPORT_RECEIVED, "intake", {})
        assert await until(lambda: _published(runtime.js, mine, runtime.signer), timeout=20)
        second = new_event(REPORT_STORED, "sharing", {})
        theirs = sharing.jetstream()
        assert await until(lambda: _published(theirs, second, signer), timeout=20)
        assert await until(lambda: second.id in received, timeout=20)
    finally:
        if frozen is not None:
            frozen.resume()
        if sharing is not None:
            await sharing.close()
        await runtime.close()


async def _is(check: ReadinessCheck, expected: str | None) -> bool:
    return bool(await check() == expected)


async def _not_ready(check: ReadinessCheck) -> bool:
    # "not answering" until the client gives up on the node, "disconnected" while it moves on
    return await check() in ("not answering", "disconnected")


async def _published(js: JetStreamContext, event: Envelope, signer: EventSigner | None) -> bool:
    try:
        await natsx.publish(js, event, timeout=1, signer=signer)
    except REFUSED:
        return False
    return True
