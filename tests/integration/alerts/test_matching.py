"""Matching: rules, key versions, grouping, idempotency, poison, erasure — real NATS and DB."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from libs.common import nats as natsx
from libs.common.consumer import ConsumerLoop
from libs.common.contracts import ReportReceived
from libs.common.events import Envelope, new_event
from libs.common.subjects import RELEASE_REQUESTED, REPORT_RECEIVED
from libs.common.system import dead_letter_sink
from services.alerts.alerts.models import Alert, AlertMatch
from services.alerts.delivery.models import Delivery
from services.alerts.delivery.rows import Claim
from services.alerts.matching.consumer import received_handler
from services.alerts.matching.service import Matcher
from services.alerts.models import DEAD_LETTERS, INBOX, OUTBOX
from tests.integration.alerts.conftest import AlertsStack
from tests.integration.alerts.support import erased_event, report_event, tokens_for, until

ALERTS = Alert.__table__  # type: ignore[attr-defined]
MATCHES = AlertMatch.__table__  # type: ignore[attr-defined]
DELIVERIES = Delivery.__table__  # type: ignore[attr-defined]
LEV = ("Лев Скорякин", "1999-03-14")


async def _entry(stack: AlertsStack, label: str = "client 12", rule: Any = None, **kw: Any) -> str:
    body: dict[str, Any] = {"label": label, "tokens": tokens_for(*LEV, **kw)}
    if rule is not None:
        body["rule"] = rule
    resp = await stack.call("POST", "/v1/watchlist/entries", json=body)
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


async def _processed(stack: AlertsStack, *events: Envelope) -> None:
    ids = [e.id for e in events]

    async def done() -> bool:
        rows = await stack.db(select(INBOX.c.event_id).where(INBOX.c.event_id.in_(ids)))
        return len(rows) == len(ids)

    assert await until(done), "events not processed"


async def _alerts(stack: AlertsStack) -> list[Any]:
    return await stack.db(select(ALERTS).order_by(ALERTS.c.created_at))


async def test_entry_rules_and_priorities(stack: AlertsStack) -> None:
    await _entry(stack, "anywhere")
    await _entry(stack, "kg only", rule={"countries": ["KG"], "incident_types": ["detention"]})
    tokens = tokens_for("SKORIAKIN LEV", "14.03.1999")
    in_kz = report_event(tokens, country="KZ", legal_basis="administrative")
    refusal = report_event(tokens, incident_type="entry_refusal", country="GE")
    in_kg = report_event(
        tokens, country="KG", legal_basis="interpol_red_notice", incident_type="extradition_request"
    )
    for event in (in_kz, refusal, in_kg):
        await stack.publish(event)
    await _processed(stack, in_kz, refusal, in_kg)
    got = {(a.report_id, a.priority) for a in await _alerts(stack)}
    # KZ: only the default-rule entry, administrative basis → high; the refusal matches no rule;
    # the KG extradition request is not a detention, so only the default entry alerts — highest.
    assert got == {(in_kz.data["report_id"], "high"), (in_kg.data["report_id"], "highest")}


async def test_possible_matches_alert_at_lower_priority_and_other_key_versions_never_match(
    stack: AlertsStack,
) -> None:
    await _entry(stack)
    typo = report_event(tokens_for("Lev Skorjakim", "1999-03-14"))  # one letter off
    year_only = report_event(tokens_for("Lev Skoryakin", "1999"), country="GE")
    other_version = report_event(tokens_for(*LEV, version=2), country="TR")
    for event in (typo, year_only, other_version):
        await stack.publish(event)
    await _processed(stack, typo, year_only, other_version)
    by_report = {a.report_id: a for a in await _alerts(stack)}
    assert set(by_report) == {typo.data["report_id"], year_only.data["report_id"]}
    assert by_report[typo.data["report_id"]].decision == "possible"
    assert by_report[typo.data["report_id"]].priority == "high"
    year = by_report[year_only.data["report_id"]]
    assert year.decision == "possible" and "name_year" in year.agreed.split(",")


async def test_a_second_report_of_the_same_detention_updates_the_alert_instead_of_paging(
    stack: AlertsStack,
) -> None:
    await stack.call("PUT", "/v1/lawyer/profile", json={"email": {"address": "l@example.org"}})
    await _entry(stack)
    tokens = tokens_for("SKORIAKIN LEV", "14.03.1999")
    first = report_event(tokens, legal_basis="unknown")
    second = report_event(tokens)  # another NGO, same detention, now with the legal basis
    elsewhere = report_event(tokens, country="KZ")
    later = report_event(tokens, received_at=datetime.now(UTC) + timedelta(hours=73))
    for event in (first, second, elsewhere, later):
        await stack.publish(event)
    await _processed(stack, first, second, elsewhere, later)
    alerts = await _alerts(stack)
    assert len(alerts) == 3
    grouped = next(a for a in alerts if a.report_count == 2)
    assert grouped.priority == "highest" and grouped.legal_basis == "cis_interstate_search"
    assert (await stack.db(select(func.count()).select_from(MATCHES)))[0][0] == 4
    # One first page per alert, none for the grouped second report.
    pages = await stack.db(select(DELIVERIES.c.alert_id).where(DELIVERIES.c.step == 0))
    assert sorted(p.alert_id for p in pages) == sorted(a.id for a in alerts)


async def test_duplicate_events_and_a_republished_report_make_one_alert(stack: AlertsStack) -> None:
    await _entry(stack)
    event = report_event(tokens_for("SKORIAKIN LEV", "14.03.1999"))
    js = stack.nc.jetstream()
    # The same event stored twice (no Nats-Msg-Id), and the same report under a new event id.
    await js.publish(REPORT_RECEIVED, event.model_dump_json().encode())
    await js.publish(REPORT_RECEIVED, event.model_dump_json().encode())
    again = new_event(REPORT_RECEIVED, "intake", event.data, event.data["report_id"])
    await stack.publish(again)
    await _processed(stack, event, again)
    await asyncio.sleep(0.3)
    assert len(await _alerts(stack)) == 1
    assert (await stack.db(select(func.count()).select_from(MATCHES)))[0][0] == 1


SEALED = "sealed-report-canary-3c9d"


async def test_schema_invalid_events_are_dead_lettered_and_later_reports_still_alert(
    stack: AlertsStack,
) -> None:
    await _entry(stack)
    js = stack.nc.jetstream()
    await js.publish(REPORT_RECEIVED, b"{not json")
    broken = new_event(
        REPORT_RECEIVED, "intake", {"report_id": "r1", "tokens": "nope", "sealed": SEALED}
    )
    await stack.publish(broken)
    good = report_event(tokens_for("SKORIAKIN LEV", "14.03.1999"))
    await stack.publish(good)
    await _processed(stack, good)

    async def letters() -> list[Any]:
        return await stack.db(select(DEAD_LETTERS.c.event_id, DEAD_LETTERS.c.reason))

    assert await until(lambda: _count_async(letters, 2))
    reasons = {r.event_id: r.reason for r in await letters()}
    assert reasons[None] == "invalid_envelope"
    assert reasons[broken.id].startswith("permanent:invalid report.received")
    assert [a.report_id for a in await _alerts(stack)] == [good.data["report_id"]]
    # Alerts has no use for the sealed report: no copy of it stays where erasure cannot reach.
    kept = [row.payload for row in await stack.db(select(DEAD_LETTERS.c.payload))]
    assert any(b'"tokens":"nope"' in payload for payload in kept), kept
    assert not any(SEALED.encode() in payload for payload in kept), kept


async def _count_async(fetch: Any, n: int) -> bool:
    return len(await fetch()) >= n


class CrashOn(Matcher):
    """A matcher with a bug that fires on one report every time."""

    poison: str = ""

    async def on_received(self, event: Envelope, report: ReportReceived) -> int:
        if report.report_id == self.poison:
            raise RuntimeError("handler bug")
        return await super().on_received(event, report)


async def test_an_event_that_crashes_the_handler_every_time_is_dead_lettered_and_others_flow(
    stack: AlertsStack,
) -> None:
    await _entry(stack)
    container = stack.app.state.container
    runtime = container.runtime
    minute_s = stack.settings.escalation_minute_s
    matcher = CrashOn(
        runtime.sessions,
        container.clock,
        minute_s,
        Claim(5.0, 5.0),
        lambda _: None,
        container.matcher.disclose,
        lambda: None,
        in_thread=runtime.threads.run,
    )
    # A subject of its own (on a stream of wildcards), so no service's durable takes them.
    subject = f"lifeline.system.crashtest{uuid.uuid4().hex[:6]}.v1"
    tokens = tokens_for("SKORIAKIN LEV", "14.03.1999")
    poison = new_event(REPORT_RECEIVED, "intake", report_event(tokens, country="KZ").data)
    matcher.poison = poison.data["report_id"]
    good = new_event(REPORT_RECEIVED, "intake", report_event(tokens, country="GE").data)
    js = stack.nc.jetstream()
    for event in (poison, good):
        await js.publish(subject, event.model_dump_json().encode())
    sub = await natsx.ensure_pull_consumer(
        js, natsx.ConsumerSpec(durable=f"t-{uuid.uuid4().hex[:8]}", filter_subject=subject)
    )
    loop = ConsumerLoop(
        sub,
        received_handler(matcher),
        dead_letter_sink(runtime, DEAD_LETTERS),
        name="crash-test",
        fetch_timeout=0.2,
        nak_delays=(0.05,),
        poison_after=3,
    )
    stop = asyncio.Event()
    task = asyncio.create_task(loop.run(stop))
    try:
        await _processed(stack, good)

        async def dead() -> list[Any]:
            return await stack.db(
                select(DEAD_LETTERS.c.reason).where(DEAD_LETTERS.c.event_id == poison.id)
            )

        assert await until(dead)
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
    assert [r.reason for r in await dead()] == ["handler:RuntimeError"]
    assert [a.report_id for a in await _alerts(stack)] == [good.data["report_id"]]


async def test_erasure_withdraws_alerts_and_matches_and_a_late_copy_derives_nothing(
    stack: AlertsStack,
) -> None:
    await stack.call("PUT", "/v1/lawyer/profile", json={"email": {"address": "l@example.org"}})
    await _entry(stack)
    tokens = tokens_for("SKORIAKIN LEV", "14.03.1999")
    only = report_event(tokens)
    kept, gone = report_event(tokens, country="KZ"), report_event(tokens, country="KZ")
    for event in (only, kept, gone):
        await stack.publish(event)
    await _processed(stack, only, kept, gone)
    erase = [erased_event(e.data["report_id"]) for e in (only, gone)]
    for event in erase:
        await stack.publish(event)
    await _processed(stack, *erase)
    alerts = {a.country: a for a in await _alerts(stack)}
    assert alerts["KG"].status == "withdrawn" and alerts["KG"].report_id == ""
    assert alerts["KG"].occurred_at == "" and alerts["KG"].next_step_at is None
    assert alerts["KZ"].status == "open" and alerts["KZ"].report_count == 1
    assert alerts["KZ"].report_id == kept.data["report_id"]
    remaining = await stack.db(select(MATCHES.c.report_id))
    assert [r.report_id for r in remaining] == [kept.data["report_id"]]
    withdrawn = (await stack.call("GET", "/v1/alerts?status=withdrawn")).json()["alerts"]
    assert [a["id"] for a in withdrawn] == [alerts["KG"].id]
    # The same report arriving again after its erasure derives nothing.
    late = new_event(REPORT_RECEIVED, "intake", only.data)
    await stack.publish(late)
    await _processed(stack, late)
    assert len(await _alerts(stack)) == 2


async def test_removed_entries_never_match(stack: AlertsStack) -> None:
    entry_id = await _entry(stack)
    await stack.call("DELETE", f"/v1/watchlist/entries/{entry_id}")
    event = report_event(tokens_for("SKORIAKIN LEV", "14.03.1999"))
    await stack.publish(event)
    await _processed(stack, event)
    assert await _alerts(stack) == []


async def test_a_burst_is_matched_in_batches_with_nobody_paged_for_strangers(
    stack: AlertsStack,
) -> None:
    await _entry(stack)
    strangers = [
        report_event(tokens_for(f"Ivan Strangerov{i}", f"19{60 + i}-01-02")) for i in range(30)
    ]
    lev = report_event(tokens_for("SKORIAKIN LEV", "14.03.1999"))
    poison = new_event(REPORT_RECEIVED, "intake", {"report_id": "x"})  # breaks the contract
    burst = [*strangers[:15], lev, poison, *strangers[15:]]
    js = stack.nc.jetstream()
    acks = [
        await js.publish_async(e.type, natsx.envelope_bytes(e), headers={"Nats-Msg-Id": e.id})
        for e in burst
    ]
    await asyncio.gather(*acks)
    await _processed(stack, *strangers, lev)
    alerts = await _alerts(stack)
    assert [a.report_id for a in alerts] == [lev.data["report_id"]]
    rows = await stack.db(select(DEAD_LETTERS.c.reason).where(DEAD_LETTERS.c.event_id == poison.id))
    assert [r.reason for r in rows] == ["permanent:invalid report.received data"]


async def test_a_release_request_is_published_once_after_its_commit_and_its_outbox_row_goes(
    stack: AlertsStack,
) -> None:
    stack.visible = {}  # the lawyer's organisation may see nothing: the alert asks for release
    await _entry(stack)
    event = report_event(tokens_for("SKORIAKIN LEV", "14.03.1999"))
    await stack.publish(event)
    await _processed(stack, event)
    relay = stack.app.state.container.relay

    async def forgotten() -> bool:
        return not await stack.db(select(OUTBOX.c.event_id)) and not relay.claimed

    assert await until(forgotten), "the published request's outbox row stayed"
    await asyncio.sleep(1.2)  # a relay tick: nothing is left for it to publish again
    js = stack.nc.jetstream()
    spec = natsx.ConsumerSpec(durable=f"t-{uuid.uuid4().hex[:8]}", filter_subject=RELEASE_REQUESTED)
    sub = await natsx.ensure_pull_consumer(js, spec)
    seen: list[dict[str, Any]] = []
    while True:
        try:
            msgs = await sub.fetch(100, timeout=0.5)
        except TimeoutError:
            break
        seen += [json.loads(m.data)["data"] for m in msgs]
    mine = [s for s in seen if s["report_id"] == event.data["report_id"]]
    assert [s["partner_id"] for s in mine] == ["bar-1"]  # once, for the lawyer's organisation
