"""`report.received` moved to a stream of its own: what the release before left on the bus is
still stored, still read by alerts, and its sealed copies still leave the bus.

The bus is set up as that release left it (one `LIFELINE_REPORTS` stream for every report
subject, both readers' durables on it, a report neither has read yet), with a certificate that
may do anything there. Then the services of this release start on it, under their own users.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nats
from nats.js import api as js_api
from nats.js.errors import NotFoundError

from libs.common import nats as natsx
from libs.common.crypto import hpke
from libs.common.crypto.encoding import b64u_encode
from libs.common.events import Envelope
from libs.common.provenance import EventSigner
from libs.common.reports import ReportIn
from libs.common.subjects import REPORT_RECEIVED, REPORT_STORED
from services.intake import wire
from services.sharing.app import create_app as sharing_app
from tests.integration.vault.test_bus_copies import Network, sql, until
from tests.support.access import bootstrap_admin, register_client
from tests.support.bus import INTRUDER, start_secured_bus
from tests.support.reports import report_body
from tests.support.seizure import opened, store_bytes
from tests.support.servers import serve_app

OLD = "LIFELINE_REPORTS"
READERS = ("sharing-vault", "alerts-reports")


async def test_a_report_published_before_the_move_is_stored_and_its_copy_erased(
    tmp_path: Path, db_url_factory: Any
) -> None:
    bus = start_secured_bus(tmp_path, intruder=True)
    net = Network(tmp_path, bus, db_url_factory("sharing"))
    try:
        async with serve_app(sharing_app, net.sharing) as (url, _):
            admin = await bootstrap_admin(net.http, url, net.sharing.data_dir)
            net.submitter = await register_client(net.http, admin, ("reports:read",))
        partner = net.submitter.partner_id
        report_id = await _old_layout_with_an_unread_report(net, partner)

        async with serve_app(sharing_app, net.sharing) as (url, app):
            net.url, net.app = url, app
            async with net.alerts():
                # sharing stores it from its old durable, then both old durables go
                stored = "SELECT count(*) FROM vault_reports"
                assert await until(lambda: sql(net, stored)), "the report was never stored"
                assert await until(lambda: _gone(net)), "an old durable is still there"
                # and the copy, every reader having read it, is erased from the old stream
                assert await until(lambda: not net.copies(report_id)), "the old copy stayed"
                assert await until(lambda: _no_rows(net)), "a row still points at a copy"
        # the old stream keeps the other report subjects; the new one has the received
        info = await _as_intruder(net, lambda js: js.stream_info(OLD))
        assert REPORT_RECEIVED not in info.config.subjects
        assert REPORT_STORED in info.config.subjects
    finally:
        await net.http.aclose()
        bus.server.stop()


async def _old_layout_with_an_unread_report(net: Network, partner: str) -> str:
    """The bus as the release before left it, with one report neither reader has; its id."""
    report_id = str(uuid.uuid4())

    async def rewind(js: Any) -> None:
        await js.delete_stream("LIFELINE_RECEIVED")
        await js.update_stream(
            js_api.StreamConfig(name=OLD, subjects=["lifeline.report.>"], max_age=14 * 86400.0)
        )
        for name in READERS:
            config = js_api.ConsumerConfig(
                name=name,
                durable_name=name,
                filter_subject=REPORT_RECEIVED,
                ack_policy=js_api.AckPolicy.EXPLICIT,
                max_deliver=-1,
            )
            await js.add_consumer(OLD, config)
        signer = EventSigner.load(
            net.bus.files.event_key("intake"), net.bus.files.event_cert("intake")
        )
        await natsx.publish(js, _sealed(net, report_id, partner), signer=signer)

    await _as_intruder(net, rewind)
    assert opened(store_bytes(net.bus.server.store), net.keys, report_id, partner)
    return report_id


def _sealed(net: Network, report_id: str, partner: str) -> Envelope:
    """The event intake published for a report (sealed to sharing's key, as intake seals)."""
    received_at = datetime.now(UTC)
    doc, content = wire.canonical(ReportIn.model_validate(report_body()))
    assert net.submitter is not None
    ids = {"report_id": report_id, "partner_id": partner}
    plain = wire.sealed_plaintext(
        content, client_id=net.submitter.client_id, received_at=received_at, **ids
    )
    sealed = hpke.seal(net.keys.active().key.public_key, plain, hpke.report_seal_info(**ids))
    _, raw = wire.received_event(doc, received_at=received_at, sealed=b64u_encode(sealed), **ids)
    return Envelope.model_validate_json(raw)


async def _gone(net: Network) -> bool:
    for name in READERS:
        try:
            await _as_intruder(net, lambda js, name=name: js.consumer_info(OLD, name))
        except NotFoundError:
            continue
        return False
    return True


async def _no_rows(net: Network) -> bool:
    return await sql(net, "SELECT count(*) FROM vault_bus_copies") == 0


async def _as_intruder(net: Network, work: Any) -> Any:
    """`work(js)` as a client that may do anything on the bus (the old release's operator)."""
    nc = await nats.connect(net.bus.url, tls=net.bus.tls(INTRUDER), allow_reconnect=False)
    try:
        return await work(nc.jetstream())
    finally:
        await nc.close()
