"""TLP and policy on the alert path: an alert never shows what its lawyer may not read.

A real sharing and a real alerts on one nats-server: sharing answers which details a lawyer's
organisation may see, a RED report of another partner pages the lawyer at once without them,
and the submitter's approval of the release request brings them (audited, who asked and when).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from libs.common import nats as natsx
from libs.common.contracts import ReleaseRequested, ReportReleased, new_event, read_event
from libs.common.crypto.hpke_keys import generate_private_key
from libs.common.events import Envelope
from libs.common.outbox import OutboxRelay
from libs.common.subjects import REPORT_RELEASED
from services.sharing.vault.consumer import ReportStore
from tests.integration.alerts.conftest import AlertsStack, alerts_stack_on
from tests.integration.alerts.support import Receiver, receiver, tokens_for, until
from tests.integration.vault.conftest import Vault, cli_json
from tests.support.access import Client
from tests.support.natsd import NatsServer
from tests.support.reports import report_body

DETAILS = ("incident_type", "legal_basis", "country", "facility_kind", "occurred_at")
LAWYER = ("reports:read", "watchlist:manage", "alerts:read", "alerts:ack")


@pytest.fixture
async def alerts(
    vault: Vault, nats_server: NatsServer, db_url_factory: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[AlertsStack]:
    """Alerts beside the vault, asking the real sharing (no stand-in answers for it)."""
    async with alerts_stack_on(
        nats_server.url, db_url_factory("alerts"), tmp_path, stand_in_for_sharing=False
    ) as stack:
        yield stack


async def _watching(alerts: AlertsStack, lawyer: Client, hook: Receiver) -> None:
    """The lawyer (of the lawyer's partner) registers a webhook and watches one client."""
    who = {"client_id": lawyer.client_id, "org": lawyer.partner_id}
    resp = await alerts.call(
        "PUT", "/v1/lawyer/profile", json={"webhook": {"url": hook.url}}, **who
    )
    hook.secret = next(iter(resp.json()["new_secrets"].values()))
    entry = {"label": "client 12", "tokens": tokens_for("Лев Скорякин", "1999-03-14")}
    assert (
        await alerts.call("POST", "/v1/watchlist/entries", json=entry, **who)
    ).status_code == 201


def _report(tlp: str) -> dict[str, Any]:
    subject = {"tokens": tokens_for("SKORIAKIN LEV", "14.03.1999"), "sex": "male"}
    return report_body(tlp=tlp, subject=subject)


async def _submit(vault: Vault, partner_id: str, body: dict[str, Any]) -> str:
    report_id, event = vault.event(partner_id, body)
    await vault.publish(event)
    await vault.stored(report_id)
    return report_id


async def test_a_red_report_pages_without_details_until_the_submitter_releases_them(
    vault: Vault, alerts: AlertsStack
) -> None:
    ngo = await vault.client("reports:read", "reports:manage")  # the submitter's reader
    lawyer = await vault.client(*LAWYER)  # another partner's lawyer
    who = {"client_id": lawyer.client_id, "org": lawyer.partner_id}
    async with receiver() as hook:
        await _watching(alerts, lawyer, hook)
        report_id = await _submit(vault, ngo.partner_id, _report("RED"))

        # Paged at once: a partner holds a report about the client, and nothing of it.
        assert await until(lambda: hook.hits), "no webhook arrived"
        data = hook.hits[0].payload["data"]
        assert hook.hits[0].payload["type"] == "alert.created"
        assert data["restricted"] is True and data["release"] == "requested"
        assert [data[f] for f in DETAILS] == [None] * 5
        assert data["report_url"] is None
        # A strong match on an interstate search is "highest": shown, it would betray the basis.
        assert data["priority"] == "high" and data["label"] == "client 12"
        shown = (await alerts.call("GET", f"/v1/alerts/{data['alert_id']}", **who)).json()
        assert [shown[f] for f in DETAILS] == [None] * 5 and shown["restricted"] is True
        read = await vault.call(lawyer, "GET", f"/v1/reports/{report_id}")
        assert read.status_code == 404

        # The submitter sees who asked, when, for what; a lawyer cannot decide anything.
        async def pending() -> list[dict[str, Any]]:
            resp = await vault.call(ngo, "GET", "/v1/release-requests?status=pending")
            assert resp.status_code == 200, resp.text
            return list(resp.json()["requests"])

        assert await until(pending), "no release request reached the submitter"
        (request,) = await pending()
        assert (request["report_id"], request["partner_id"], request["asked_by"]) == (
            report_id,
            lawyer.partner_id,
            lawyer.client_id,
        )
        assert set(request["fields"]) == {
            "incident_type", "legal_basis", "occurred_at", "place.country", "place.facility_kind"
        }  # fmt: skip
        path = f"/v1/release-requests/{request['id']}"
        assert (await vault.call(lawyer, "GET", "/v1/release-requests")).status_code == 403
        other = await vault.client("reports:read", "reports:manage")  # a third partner
        assert (await vault.call(other, "POST", path + "/approve")).status_code == 404

        approved = await vault.call(ngo, "POST", path + "/approve")
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "approved"
        assert (await vault.call(ngo, "POST", path + "/deny")).status_code == 409

        # The details reach the alert, and the lawyer reads them in the vault too.
        assert await until(lambda: len(hook.hits) > 1), "no alert.updated arrived"
        update = hook.hits[1].payload
        assert update["type"] == "alert.updated" and update["data"]["restricted"] is False
        assert update["data"]["legal_basis"] == "cis_interstate_search"
        assert update["data"]["priority"] == "highest"
        shown = (await alerts.call("GET", f"/v1/alerts/{data['alert_id']}", **who)).json()
        assert (shown["country"], shown["release"]) == ("KG", "approved")
        read = await vault.call(lawyer, "GET", f"/v1/reports/{report_id}")
        assert read.status_code == 200, read.text
        body = read.json()  # only what was asked for and released
        assert body["report"]["legal_basis"] == "cis_interstate_search"
        assert "narrative" in body["withheld"] and "narrative" not in body["report"]

    audit = (await vault.admin_call("GET", "/v1/admin/audit?limit=200")).json()
    actions = [(e["action"], e["actor"]) for e in audit["entries"] if e["target"] == report_id]
    assert ("report.release_request", lawyer.client_id) in actions
    assert ("report.release_approve", ngo.client_id) in actions


async def test_a_policy_that_grants_the_details_puts_them_in_the_first_page(
    vault: Vault, alerts: AlertsStack
) -> None:
    ngo = await vault.client("reports:read", "reports:manage")
    lawyer = await vault.client(*LAWYER)
    fields = ["incident_type", "legal_basis", "place.country", "place.facility_kind", "occurred_at"]
    await vault.set_policy(lawyer.partner_id, {"fields": fields}, role="lawyer")
    async with receiver() as hook:
        await _watching(alerts, lawyer, hook)
        await _submit(vault, ngo.partner_id, _report("AMBER"))
        assert await until(lambda: hook.hits), "no webhook arrived"
        data = hook.hits[0].payload["data"]
        assert data["restricted"] is False and data["release"] is None
        assert (data["legal_basis"], data["country"], data["priority"]) == (
            "cis_interstate_search",
            "KG",
            "highest",
        )
    resp = await vault.call(ngo, "GET", "/v1/release-requests")
    assert resp.json()["requests"] == []


async def test_a_partial_policy_shows_what_it_grants_and_asks_for_the_rest(
    vault: Vault, alerts: AlertsStack, tmp_path: Path
) -> None:
    ngo = await vault.client("reports:read", "reports:manage")
    lawyer = await vault.client(*LAWYER)
    await vault.set_policy(lawyer.partner_id, {"fields": ["incident_type", "place.country"]})
    async with receiver() as hook:
        await _watching(alerts, lawyer, hook)
        await _submit(vault, ngo.partner_id, _report("GREEN"))
        assert await until(lambda: hook.hits), "no webhook arrived"
        data = hook.hits[0].payload["data"]
        assert (data["incident_type"], data["country"]) == ("detention", "KG")
        assert (data["legal_basis"], data["facility_kind"], data["occurred_at"]) == (None,) * 3
        assert data["restricted"] is True

        async def pending() -> list[Any]:
            resp = await vault.call(ngo, "GET", "/v1/release-requests?status=pending")
            return list(resp.json()["requests"])

        assert await until(pending)
        # The NGO answers with the CLI: what was asked, then a refusal.
        home = tmp_path / "ngo"
        listed = await cli_json(vault, ngo, home, "report", "releases", "--status", "pending")
        (request,) = listed["requests"]
        assert set(request["fields"]) == {"legal_basis", "occurred_at", "place.facility_kind"}
        denied = await cli_json(vault, ngo, home, "report", "refuse", request["id"])
        assert denied["status"] == "denied"
    who = {"client_id": lawyer.client_id, "org": lawyer.partner_id}

    async def refused() -> bool:
        shown = (await alerts.call("GET", f"/v1/alerts/{data['alert_id']}", **who)).json()
        return bool(shown["release"] == "denied" and shown["legal_basis"] is None)

    assert await until(refused), "the refusal never reached the alert"


async def test_erasing_the_report_withdraws_its_open_requests(
    vault: Vault, alerts: AlertsStack
) -> None:
    ngo = await vault.client("reports:read", "reports:manage")
    lawyer = await vault.client(*LAWYER)
    async with receiver() as hook:
        await _watching(alerts, lawyer, hook)
        report_id = await _submit(vault, ngo.partner_id, _report("RED"))

        async def requests() -> list[Any]:
            resp = await vault.call(ngo, "GET", "/v1/release-requests")
            return list(resp.json()["requests"])

        assert await until(requests)
        assert (await vault.call(ngo, "DELETE", f"/v1/reports/{report_id}")).status_code == 200
        (request,) = await requests()
        assert request["status"] == "withdrawn"
        approve = await vault.call(ngo, "POST", f"/v1/release-requests/{request['id']}/approve")
        assert approve.status_code == 410


async def test_what_a_policy_releases_at_the_request_goes_out_at_its_commit_not_by_the_relay(
    vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    relayed: list[int] = []
    publish_batch = OutboxRelay._publish_batch

    async def counted(relay: OutboxRelay) -> tuple[int, int]:
        read, published = await publish_batch(relay)
        relayed.append(published)
        return read, published

    monkeypatch.setattr(OutboxRelay, "_publish_batch", counted)
    ngo = await vault.client("reports:read")
    lawyer = await vault.client(*LAWYER)
    # The policy came after the match: by the request, it grants two of the three asked for.
    await vault.set_policy(lawyer.partner_id, {"fields": ["incident_type", "place.country"]})
    report_id = await vault.submit(ngo.partner_id, tlp="GREEN")
    js = vault.nc.jetstream()
    spec = natsx.ConsumerSpec(durable=f"t-{uuid.uuid4().hex[:8]}", filter_subject=REPORT_RELEASED)
    sub = await natsx.ensure_pull_consumer(js, spec)
    relayed.clear()
    asked = ReleaseRequested(
        report_id=report_id,
        partner_id=lawyer.partner_id,
        client_id=lawyer.client_id,
        alert_id=str(uuid.uuid4()),
        fields=["incident_type", "place.country", "legal_basis"],
        requested_at=datetime.now(UTC),
    )
    await vault.publish(new_event(asked, "alerts", report_id, at=asked.requested_at))
    (msg,) = await sub.fetch(1, timeout=10)
    released = read_event(Envelope.model_validate_json(msg.data), ReportReleased)
    assert (released.decision, set(released.fields)) == (
        "policy",
        {"incident_type", "place.country"},
    )
    # its outbox row is forgotten by the writer's bookkeeping, and the relay sent nothing
    assert await until(lambda: _outbox_empty(vault)), "the released event's row stayed"
    assert sum(relayed) == 0


def _asked(report_id: str, lawyer: Client) -> Envelope:
    """The release request alerts sends when `lawyer`'s alert about the report hides details."""
    asked = ReleaseRequested(
        report_id=report_id,
        partner_id=lawyer.partner_id,
        client_id=lawyer.client_id,
        alert_id=str(uuid.uuid4()),
        fields=["incident_type"],
        requested_at=datetime.now(UTC),
    )
    return new_event(asked, "alerts", report_id, at=asked.requested_at)


async def test_a_request_about_a_report_this_service_refused_is_dead_lettered_not_retried(
    vault: Vault,
) -> None:
    ngo, lawyer = await vault.client("reports:read"), await vault.client(*LAWYER)
    # Alerts matched it, but sharing refused it: it is sealed to a key sharing does not hold.
    report_id, refused = vault.event(ngo.partner_id, seal_key=generate_private_key().public_key)
    await vault.publish(refused)
    assert await vault.dead_letter(refused.id) == "permanent:sealed report does not open"
    request = _asked(report_id, lawyer)
    await vault.publish(request)
    # Dead-lettered beside the report (an operator sees both), not retried every 10 s for ever.
    assert await vault.dead_letter(request.id, timeout=10) == "permanent:report never stored"
    assert await vault.sql("SELECT id FROM release_requests") == []


async def test_a_request_that_comes_before_its_report_is_stored_waits_for_it(
    vault: Vault, monkeypatch: pytest.MonkeyPatch
) -> None:
    ngo, lawyer = await vault.client("reports:read"), await vault.client(*LAWYER)
    # The report is on the bus but its store is held up: the request must wait, not give up.
    held, write = asyncio.Event(), ReportStore._write

    async def slow(store: ReportStore, *args: Any) -> bool:
        await held.wait()
        return await write(store, *args)

    monkeypatch.setattr(ReportStore, "_write", slow)
    report_id, event = vault.event(ngo.partner_id, report_body(tlp="RED"))
    await vault.publish(event)
    await vault.publish(_asked(report_id, lawyer))
    await asyncio.sleep(2)  # several of the request's attempts (0.2 s, 1 s …) meanwhile
    held.set()
    await vault.stored(report_id)

    async def recorded() -> bool:
        return bool(
            await vault.sql("SELECT id FROM release_requests WHERE report_id = :r", r=report_id)
        )

    assert await until(recorded, 20), "the request was not recorded once its report was stored"
    assert await vault.sql("SELECT reason FROM dead_letters") == []


async def _outbox_empty(vault: Vault) -> bool:
    return not await vault.sql("SELECT event_id FROM outbox")
