"""The bus as `lifeline up` runs it: no anonymous client, and each service only its subjects.

A stolen service certificate is the threat here: with it, a client may do what that service
may do on the bus and nothing else (publish its own events, read through its own durables).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable

import nats
import pytest
from nats.aio.msg import Msg
from nats.errors import NoRespondersError
from nats.js import api as js_api

from libs.common import nats as natsx
from libs.common.bus import ROLES, Durable, readers
from libs.common.events import new_event
from libs.common.subjects import (
    AUTH_REVOKED,
    DISCLOSURE_RPC,
    REPORT_ERASED,
    REPORT_RECEIVED,
    REPORT_STORED,
    SYSTEM_PING,
)
from lifeline.bus import ensure_bus
from tests.support.bus import REFUSED, SecuredBus

EVENTS = (REPORT_RECEIVED, REPORT_STORED, REPORT_ERASED, AUTH_REVOKED, SYSTEM_PING)


async def _streams(bus: SecuredBus) -> None:
    """Every stream, created as the services create them at start."""
    for name, role in ROLES.items():
        nc = await bus.connect_as(name)
        try:
            await natsx.ensure_streams(nc.jetstream(), 1, role.uses(), role.manages)
        finally:
            await nc.close()


async def _stream_msgs(bus: SecuredBus, stream: str) -> int:
    """How many messages the stream holds (asked as intake, which may)."""
    nc = await bus.connect_as("intake")
    try:
        return int((await nc.jetstream().stream_info(stream)).state.messages)
    finally:
        await nc.close()


async def test_no_anonymous_client_and_no_certificate_of_another_ca(
    bus: SecuredBus, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    plain = {"allow_reconnect": False, "max_reconnect_attempts": 0, "connect_timeout": 2}
    with pytest.raises(REFUSED):
        await nats.connect(bus.url, **plain)  # no TLS at all
    trusting = ssl.create_default_context(cafile=str(bus.files.ca))  # TLS, but no certificate
    with pytest.raises(REFUSED):
        await nats.connect(bus.url, tls=trusting, **plain)
    other = ensure_bus(tmp_path / "other", host="127.0.0.1", port=1, store_dir=tmp_path / "o",
                       server_name="o")  # fmt: skip
    foreign = ssl.create_default_context(cafile=str(bus.files.ca))
    foreign.load_cert_chain(str(other.cert("sharing")), str(other.key("sharing")))
    with pytest.raises(REFUSED):
        await nats.connect(bus.url, tls=foreign, **plain)
    nc = await bus.connect_as("sharing")  # and the real identity gets in
    assert nc.is_connected
    await nc.close()


@pytest.mark.parametrize("service", sorted(ROLES))
async def test_a_service_publishes_its_own_events_and_no_other(
    bus: SecuredBus, service: str
) -> None:
    await _streams(bus)
    nc = await bus.connect_as(service)
    js = nc.jetstream()
    try:
        for subject in EVENTS:
            event = new_event(subject, service, {"probe": True})
            if subject in ROLES[service].publishes:
                assert await natsx.publish(js, event, timeout=2) >= 1
            else:
                with pytest.raises(REFUSED):
                    await natsx.publish(js, event, timeout=0.5)
    finally:
        await nc.close()
    denied = set(EVENTS) - set(ROLES[service].publishes)
    assert {s for s in denied if any(s.lower() in v for v in bus.violations("publish"))} == denied


async def test_stolen_alerts_credentials_cannot_read_as_sharing(bus: SecuredBus) -> None:
    await _streams(bus)
    sharing = ROLES["sharing"]
    vault = sharing.durable("sharing-vault")
    nc = await bus.connect_as("alerts")
    js = nc.jetstream()
    try:
        # its own durable is fine
        own = ROLES["alerts"].durable("alerts-reports")
        sub = await natsx.ensure_pull_consumer(js, natsx.ConsumerSpec(own.name, own.subject))
        await sub.unsubscribe()
        # sharing's durable, a new one of its choosing, a direct read of the stream: refused
        for durable in (vault, Durable("alerts-everything", REPORT_RECEIVED)):
            with pytest.raises(REFUSED):
                await asyncio.wait_for(
                    js.add_consumer(
                        durable.stream,
                        js_api.ConsumerConfig(name=durable.name, durable_name=durable.name,
                                              filter_subject=durable.subject),
                        timeout=0.5,
                    ),
                    2,
                )  # fmt: skip
        with pytest.raises(REFUSED):
            await js.get_msg(vault.stream, seq=1)
        # sharing's replies (its pulled reports) cannot be overheard
        await nc.subscribe(f"{sharing.inbox_prefix}.>")
        await nc.flush()
        await asyncio.sleep(0.2)
    finally:
        await nc.close()
    assert any(sharing.inbox_prefix.lower() in v for v in bus.violations("subscription")), (
        bus.errors
    )


async def test_only_sharing_erases_or_purges_received_reports_and_sees_only_their_readers(
    bus: SecuredBus,
) -> None:
    await _streams(bus)
    stream = ROLES["sharing"].durable("sharing-vault").stream
    intake = await bus.connect_as("intake")
    alerts = await bus.connect_as("alerts")
    sharing = await bus.connect_as("sharing")
    try:
        seqs = [
            await natsx.publish(intake.jetstream(), new_event(REPORT_RECEIVED, "intake", {}))
            for _ in range(3)
        ]
        own = ROLES["alerts"].durable("alerts-reports")
        await natsx.ensure_pull_consumer(
            alerts.jetstream(), natsx.ConsumerSpec(own.name, own.subject)
        )
        for name in ("intake", "alerts"):  # a stolen reader's or producer's certificate
            nc = {"intake": intake, "alerts": alerts}[name]
            with pytest.raises(REFUSED):
                await nc.jetstream().delete_msg(stream, seqs[0])
            with pytest.raises(REFUSED):
                await nc.jetstream(timeout=0.5).purge_stream(stream)
        js = sharing.jetstream()
        # the sealed copies' own stream, not the one of the other report events
        assert stream != "LIFELINE_REPORTS"
        with pytest.raises(REFUSED):
            await sharing.jetstream(timeout=0.5).purge_stream("LIFELINE_REPORTS")
        # the other readers of report.received: their ack floors, nothing else
        assert [d.name for d in readers(REPORT_RECEIVED)] == ["sharing-vault", "alerts-reports"]
        assert (await js.consumer_info(stream, own.name)).ack_floor is not None
        for other in ("intake-receipts", "alerts-erasures"):
            with pytest.raises(REFUSED):
                await js.consumer_info(stream, other, timeout=0.5)
        assert await js.delete_msg(stream, seqs[0])
        assert await js.purge_stream(stream, seq=seqs[1] + 1)
    finally:
        for nc in (intake, alerts, sharing):
            await nc.close()
    assert (await _stream_msgs(bus, stream)) == 1
    refused = " ".join(bus.violations("publish"))
    assert f"msg.delete.{stream}".lower() in refused
    assert f"purge.{stream}".lower() in refused
    assert "purge.lifeline_reports" in refused
    assert all(
        f"info.{stream}.{o}".lower() in refused for o in ("intake-receipts", "alerts-erasures")
    )


async def test_only_alerts_asks_what_it_may_disclose_and_only_sharing_answers(
    bus: SecuredBus,
) -> None:
    sharing = await bus.connect_as("sharing")
    alerts = await bus.connect_as("alerts")
    intake = await bus.connect_as("intake")

    def answering(text: bytes) -> Callable[[Msg], Awaitable[None]]:
        async def answer(msg: Msg) -> None:
            await msg.respond(text)

        return answer

    try:
        await sharing.subscribe(DISCLOSURE_RPC, cb=answering(b"sharing"))
        await sharing.flush()  # the server has the subscription before alerts asks
        # A stolen intake certificate can neither overhear the question nor answer it.
        await intake.subscribe(DISCLOSURE_RPC, cb=answering(b"impostor"))
        await intake.flush()
        for _ in range(5):
            reply = await alerts.request(DISCLOSURE_RPC, b"{}", timeout=2)
            assert reply.data == b"sharing"
        with pytest.raises((*REFUSED, NoRespondersError)):
            await intake.request(DISCLOSURE_RPC, b"{}", timeout=0.5)
        # Nor may sharing write into alerts' inbox except to answer a request it received.
        await sharing.publish(f"{ROLES['alerts'].inbox_prefix}.forged", b"lie")
        await sharing.flush()
        await asyncio.sleep(0.2)
    finally:
        for nc in (sharing, alerts, intake):
            await nc.close()
    assert any(DISCLOSURE_RPC in v for v in bus.violations("subscription")), bus.errors
    published = bus.violations("publish")
    assert any(DISCLOSURE_RPC in v for v in published), bus.errors
    assert any("_inbox_alerts.forged" in v for v in published), bus.errors
