"""Storing: the consumer opens sealed reports, encrypts every field, stores once, acks after commit."""

from __future__ import annotations

import asyncio
import os
import stat
from typing import Any

from nats.js.api import ConsumerConfig, DeliverPolicy

from libs.common import nats as natsx
from libs.common.crypto.encoding import b64u_decode, b64u_encode
from libs.common.crypto.hpke_keys import generate_private_key
from libs.common.events import Envelope
from libs.common.reports import CATALOGUE, ReportIn
from libs.common.subjects import REPORT_STORED
from tests.integration.vault.conftest import Vault
from tests.support.reports import report_body

NEW_ONLY = ConsumerConfig(deliver_policy=DeliverPolicy.NEW)  # not earlier tests' events


async def test_a_report_is_stored_field_encrypted_and_announced(vault: Vault) -> None:
    a = await vault.client("reports:read")
    sub = await vault.nc.jetstream().subscribe(
        REPORT_STORED, ordered_consumer=True, config=NEW_ONLY
    )
    body = report_body()
    report_id, event = vault.event(a.partner_id, body)
    await vault.publish(event)
    await vault.stored(report_id)

    row = (await vault.sql("SELECT * FROM vault_reports WHERE report_id = :r", r=report_id))[0]
    assert (row.partner_id, row.incident_type, row.country, row.tlp) == (
        a.partner_id,
        "detention",
        "KG",
        "AMBER",
    )
    fields = await vault.sql(
        "SELECT field, ciphertext FROM vault_fields WHERE report_id = :r", r=report_id
    )
    assert sorted(f.field for f in fields) == sorted(CATALOGUE.grantable)
    for f in fields:
        blob = bytes(f.ciphertext)
        assert blob[:2] == b"\x01\x01" and len(blob) % 32 == (2 + 12 + 16) % 32
        assert b"Bishkek" not in blob and body["narrative"].encode() not in blob
    keys = await vault.sql("SELECT * FROM vault_data_keys WHERE report_id = :r", r=report_id)
    assert len(keys) == 1 and keys[0].data_key_id == row.data_key_id and keys[0].kek_version == 1

    # Intake's receipt turns to "stored" on this event.
    stored = await _stored_event(sub, report_id)
    assert stored.data["partner_id"] == a.partner_id and stored.data["stored_at"]

    # The submitter reads it back in full.
    resp = await vault.call(a, "GET", f"/v1/reports/{report_id}")
    assert resp.status_code == 200, resp.text
    view = resp.json()
    assert view["withheld"] == [] and view["submitter"] is True
    assert view["client_report_id"] == body["client_report_id"]
    expected = ReportIn.model_validate(body).model_dump(mode="json")
    del expected["client_report_id"]
    del expected["follows"]  # the link is the view's own `follows`, not a field of the report
    assert view["report"] == expected
    assert (view["follows"], view["follow_ups"]) == (None, [])

    # The KEK file was created on first run, private to the service.
    kek = vault.settings.resolved_kek_file()
    assert stat.S_IMODE(os.stat(kek).st_mode) == 0o600


async def test_redelivery_and_resubmission_store_once(vault: Vault) -> None:
    a = await vault.client("reports:read")
    report_id, event = vault.event(a.partner_id)
    await vault.publish(event)
    await vault.stored(report_id)
    # The same event again (past JetStream's duplicate window), and the same report under a
    # new event id: still one report, no dead letter.
    await vault.publish(event, msg_id="again-" + event.id)
    again = event.model_copy(update={"id": "other-" + event.id[:50]})
    await vault.publish(again)
    await asyncio.sleep(1.0)
    rows = await vault.sql("SELECT count(*) AS n FROM vault_reports")
    assert rows[0].n == 1
    assert (
        await vault.sql(
            "SELECT * FROM dead_letters WHERE event_id IN (:a, :b)", a=event.id, b=again.id
        )
        == []
    )
    # The vault consumer acknowledged everything it stored.
    info = await vault.nc.jetstream().consumer_info("LIFELINE_RECEIVED", "sharing-vault")
    for _ in range(100):
        if info.num_ack_pending == 0 and info.num_pending == 0:
            break
        await asyncio.sleep(0.05)
        info = await vault.nc.jetstream().consumer_info("LIFELINE_RECEIVED", "sharing-vault")
    assert (info.num_pending, info.num_ack_pending) == (0, 0)


async def test_same_client_report_id_as_another_report_is_dead_lettered(vault: Vault) -> None:
    a = await vault.client("reports:read")
    body = report_body()
    first_id, first = vault.event(a.partner_id, body)
    await vault.publish(first)
    await vault.stored(first_id)
    _, second = vault.event(a.partner_id, body)  # same client_report_id, new report id
    await vault.publish(second)
    assert "another report" in await vault.dead_letter(second.id)


async def test_sealed_reports_that_do_not_check_out_are_dead_lettered(vault: Vault) -> None:
    a = await vault.client("reports:read")
    b = await vault.client("reports:read")
    stranger = generate_private_key()
    cases = {
        # Sealed for another partner or report: the info binding fails.
        "info partner": vault.event(a.partner_id, info_partner_id=b.partner_id),
        "info report": vault.event(a.partner_id, info_report_id="0" * 36),
        # Sealed to a key sharing does not hold.
        "stranger key": vault.event(a.partner_id, seal_key=stranger.public_key),
        # Opens, but the sealed ids disagree with the event's.
        "inner partner": vault.event(a.partner_id, inner_partner_id=b.partner_id),
        # The clear routing metadata was relabelled to widen who may read it.
        "relabelled tlp": vault.event(a.partner_id, report_body(tlp="RED"), tlp="CLEAR"),
        "relabelled country": vault.event(a.partner_id, country="DE"),
        # Garbage instead of a sealed blob, or a blob with an unknown suite byte.
        "not base64": vault.event(a.partner_id, sealed="***"),
    }
    # A well-sealed report with its suite byte or one ciphertext bit changed.
    for name, (index, mask) in {"unknown suite": (1, 0x08), "flipped bit": (-20, 0x01)}.items():
        report_id, event = vault.event(a.partner_id)
        blob = bytearray(b64u_decode(event.data["sealed"]))
        blob[index] ^= mask
        data = {**event.data, "sealed": b64u_encode(bytes(blob))}
        cases[name] = (report_id, event.model_copy(update={"data": data}))
    reasons = {}
    for _, event in cases.values():
        await vault.publish(event)
    for name, (report_id, event) in cases.items():
        reasons[name] = await vault.dead_letter(event.id)
        assert (
            await vault.sql("SELECT 1 FROM vault_reports WHERE report_id = :r", r=report_id) == []
        )
    assert reasons["info partner"] == "permanent:sealed report does not open"
    assert reasons["stranger key"] == "permanent:sealed report does not open"
    assert reasons["inner partner"].startswith("permanent:sealed report belongs to another")
    assert reasons["relabelled tlp"].startswith("permanent:routing metadata disagrees")
    assert reasons["relabelled country"].startswith("permanent:routing metadata disagrees")
    assert reasons["unknown suite"] == reasons["flipped bit"] == reasons["info report"]
    assert reasons["not base64"] == "permanent:sealed report is not base64url"


async def _stored_event(sub: Any, report_id: str) -> Envelope:
    """The `report.stored` of this report (the session's stream also carries other tests')."""
    deadline = asyncio.get_running_loop().time() + 15
    while True:
        stored = Envelope.model_validate_json((await sub.next_msg(timeout=10)).data)
        if stored.data["report_id"] == report_id:
            return stored
        assert asyncio.get_running_loop().time() < deadline, "no report.stored for the report"


async def _burst(vault: Vault, events: list[Envelope]) -> None:
    """Publish without waiting for each ack: the consumer fetches them many at a time."""
    js = vault.nc.jetstream()
    acks = [
        await js.publish_async(e.type, natsx.envelope_bytes(e), headers={"Nats-Msg-Id": e.id})
        for e in events
    ]
    await asyncio.gather(*acks)


async def test_a_burst_is_stored_in_batches_once_each_with_poison_and_repeats_isolated(
    vault: Vault,
) -> None:
    a = await vault.client("reports:read")
    fresh = [vault.event(a.partner_id) for _ in range(40)]
    await _burst(vault, [e for _, e in fresh])
    for report_id, _ in fresh:
        await vault.stored(report_id)
    ids = [r for r, _ in fresh]
    rows = await vault.sql("SELECT report_id, stored_at, updated_us FROM vault_reports")
    mine = [r for r in rows if r.report_id in ids]
    assert len(mine) == len(ids)
    # Reports that shared a transaction share its time: they were stored as a batch.
    assert len({r.stored_at for r in mine}) < len(mine)

    # A burst with a poison event, a clash and a repeat in it: each of those is isolated.
    _, poison = vault.event(a.partner_id, info_partner_id="someone-else")
    body = report_body()
    clash_first_id, clash_first = vault.event(a.partner_id, body)
    _, clash = vault.event(a.partner_id, body)  # same client_report_id, another report id
    more = [vault.event(a.partner_id) for _ in range(10)]
    repeat = fresh[5][1].model_copy(update={"id": "again-" + fresh[5][1].id[:50]})
    await _burst(
        vault,
        [e for _, e in more[:5]] + [poison, clash_first, clash, repeat] + [e for _, e in more[5:]],
    )
    for report_id, _ in [*more, (clash_first_id, clash_first)]:
        await vault.stored(report_id)
    assert await vault.dead_letter(poison.id) == "permanent:sealed report does not open"
    assert "another report" in await vault.dead_letter(clash.id)
    rows = await vault.sql("SELECT report_id, updated_us FROM vault_reports")
    all_ids = [*ids, clash_first_id, *(r for r, _ in more)]
    assert sorted(r.report_id for r in rows if r.report_id in all_ids) == sorted(all_ids)
    assert len({r.updated_us for r in rows}) == len(rows)  # sync stamps stay unique
    assert await vault.sql("SELECT * FROM dead_letters WHERE event_id = :e", e=repeat.id) == []


async def test_a_poison_event_leaves_the_rest_of_its_batch_stored_together(vault: Vault) -> None:
    a = await vault.client("reports:read")
    good = [vault.event(a.partner_id) for _ in range(12)]
    _, poison = vault.event(a.partner_id, info_partner_id="someone-else")
    events = [e for _, e in good]
    await _burst(vault, [*events[:6], poison, *events[6:]])
    for report_id, _ in good:
        await vault.stored(report_id)
    assert await vault.dead_letter(poison.id) == "permanent:sealed report does not open"
    ids = {r for r, _ in good}
    rows = await vault.sql("SELECT report_id, stored_at FROM vault_reports")
    mine = [r for r in rows if r.report_id in ids]
    assert len(mine) == len(ids)
    # The batch the poison came in was still stored in one transaction (one shared time),
    # not fallen back to one transaction per report.
    assert len({r.stored_at for r in mine}) < len(mine)


async def test_report_stored_goes_out_at_once_and_its_outbox_row_is_forgotten(
    vault: Vault,
) -> None:
    a = await vault.client("reports:read")
    sub = await vault.nc.jetstream().subscribe(
        REPORT_STORED, ordered_consumer=True, config=NEW_ONLY
    )
    report_id, event = vault.event(a.partner_id)
    await vault.publish(event)
    stored = await _stored_event(sub, report_id)

    # Once acknowledged, its outbox row goes: in the next store's transaction or, with none
    # coming, in one of its own; nothing is left for the relay to send again.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while await vault.sql("SELECT 1 FROM outbox WHERE event_id = :e", e=stored.id):
        assert loop.time() < deadline, "the acknowledged event's outbox row stayed"
        await asyncio.sleep(0.05)
