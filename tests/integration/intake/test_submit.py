"""Submitting reports: accepted, sealed, published with routing metadata, idempotent, receipted."""

from __future__ import annotations

import asyncio
import json

from nats.aio.client import Client
from pydantic import ValidationError
from sqlalchemy import func, select

from libs.common import nats as natsx
from libs.common.crypto import hpke
from libs.common.crypto.encoding import b64u_decode
from libs.common.events import Envelope
from libs.common.subjects import REPORT_RECEIVED
from services.intake import repository as repo
from tests.integration.intake.conftest import IntakeStack
from tests.support.natsd import NatsServer
from tests.support.ratelimit import ratelimit_of
from tests.support.reports import report_body


async def _event_for(nats_server: NatsServer, report_id: str) -> Envelope:
    nc: Client = await natsx.connect(nats_server.url, "test")
    try:
        sub = await nc.jetstream().subscribe(REPORT_RECEIVED, ordered_consumer=True)
        for _ in range(10_000):
            try:
                event = Envelope.model_validate_json((await sub.next_msg(timeout=5)).data)
            except ValidationError:
                continue  # the session's stream also holds other tests' poison messages
            if event.data["report_id"] == report_id:
                return event
        raise AssertionError("event not found")
    finally:
        await nc.close()


async def test_report_is_accepted_sealed_and_published(
    intake_stack: IntakeStack, nats_server: NatsServer
) -> None:
    body = report_body()
    resp = await intake_stack.http.post("/v1/reports", json=body, headers=intake_stack.headers())
    assert resp.status_code == 202, resp.text
    report_id = resp.json()["report_id"]

    event = await _event_for(nats_server, report_id)
    data = event.data
    assert (data["incident_type"], data["legal_basis"], data["country"], data["facility_kind"]) == (
        "detention",
        "cis_interstate_search",
        "KG",
        "airport",
    )
    assert data["tokens"] == body["subject"]["tokens"]
    raw = json.dumps(event.model_dump(mode="json"))
    assert body["narrative"] not in raw and "Bishkek" not in raw  # only sealed
    # Only sharing's key opens it, and only for this report and partner.
    sealed = b64u_decode(data["sealed"])
    opened = json.loads(
        hpke.open(
            intake_stack.keys.keyring(),
            sealed,
            hpke.report_seal_info(report_id=report_id, partner_id="partner-a"),
        )
    )
    assert opened["report"]["narrative"] == body["narrative"]

    async def status() -> str:
        r = await intake_stack.http.get(
            f"/v1/reports/{report_id}/receipt", headers=intake_stack.headers()
        )
        return str(r.json()["status"])

    for _ in range(100):
        if await status() in {"published", "stored"}:  # sharing's vault may be quicker
            break
        await asyncio.sleep(0.05)
    assert await status() in {"published", "stored"}
    async with intake_stack.app.state.container.runtime.sessions() as s:
        assert (await s.execute(select(func.count()).select_from(repo.OUTBOX))).scalar_one() == 0


async def test_same_client_report_id_is_idempotent_or_conflicts(intake_stack: IntakeStack) -> None:
    body = report_body()
    first = await intake_stack.http.post("/v1/reports", json=body, headers=intake_stack.headers())
    again = await intake_stack.http.post("/v1/reports", json=body, headers=intake_stack.headers())
    assert (first.status_code, again.status_code) == (202, 200)
    assert again.json() == {"report_id": first.json()["report_id"], "status": "duplicate"}
    changed = await intake_stack.http.post(
        "/v1/reports", json={**body, "status": "released"}, headers=intake_stack.headers()
    )
    assert changed.status_code == 409 and changed.json()["code"] == "conflict"
    # Another partner may use the same client report id for its own report.
    other = await intake_stack.http.post(
        "/v1/reports", json=body, headers=intake_stack.headers(org="partner-b")
    )
    assert other.status_code == 202 and other.json()["report_id"] != first.json()["report_id"]


async def test_concurrent_retries_create_one_report(intake_stack: IntakeStack) -> None:
    body, headers = report_body(), intake_stack.headers()
    answers = await asyncio.gather(
        *[intake_stack.http.post("/v1/reports", json=body, headers=headers) for _ in range(8)]
    )
    assert sorted(r.status_code for r in answers) == [200] * 7 + [202]
    assert len({r.json()["report_id"] for r in answers}) == 1


async def test_receipts_belong_to_the_submitting_partner(intake_stack: IntakeStack) -> None:
    resp = await intake_stack.http.post(
        "/v1/reports", json=report_body(), headers=intake_stack.headers()
    )
    report_id = resp.json()["report_id"]
    mine = await intake_stack.http.get(
        f"/v1/reports/{report_id}/receipt", headers=intake_stack.headers()
    )
    theirs = await intake_stack.http.get(
        f"/v1/reports/{report_id}/receipt", headers=intake_stack.headers(org="partner-b")
    )
    assert mine.status_code == 200 and mine.json()["status"] in {"received", "published", "stored"}
    assert theirs.status_code == 404 and theirs.json()["code"] == "not_found"


async def test_a_partner_lists_its_own_receipts_newest_first_in_pages(
    intake_stack: IntakeStack,
) -> None:
    ids = []
    for _ in range(3):
        resp = await intake_stack.http.post(
            "/v1/reports", json=report_body(), headers=intake_stack.headers(org="partner-c")
        )
        ids.append(resp.json()["report_id"])
    other = await intake_stack.http.post(
        "/v1/reports", json=report_body(), headers=intake_stack.headers(org="partner-d")
    )
    headers = intake_stack.headers(org="partner-c")
    first = await intake_stack.http.get("/v1/reports?limit=2", headers=headers)
    assert first.status_code == 200
    page = first.json()
    assert [r["report_id"] for r in page] == ids[::-1][:2]
    # Ids, times and progress (a follow-up's original, an erasure) only: never content.
    assert set(page[0]) == {
        "report_id", "client_report_id", "status", "received_at", "published_at", "stored_at",
        "follows", "erased_at"
    }  # fmt: skip
    rest = await intake_stack.http.get(
        f"/v1/reports?limit=2&before={page[-1]['report_id']}", headers=headers
    )
    assert [r["report_id"] for r in rest.json()] == [ids[0]]
    # Another partner's report id is no place to page from, and its reports are not listed.
    theirs = await intake_stack.http.get(
        f"/v1/reports?before={other.json()['report_id']}", headers=headers
    )
    assert theirs.json() == []
    assert other.json()["report_id"] not in {r["report_id"] for r in first.json()}


async def test_rate_limit_answers_429_with_retry_after(intake_stack: IntakeStack) -> None:
    headers = intake_stack.headers()
    codes = []
    for _ in range(60):
        r = await intake_stack.http.post("/v1/reports", json=report_body(), headers=headers)
        codes.append(r.status_code)
        limits = ratelimit_of(r.headers)["client"]
        assert (limits["q"], limits["w"]) == (50, 1000)  # 50 at once, refilled at 0.05/s
        if r.status_code == 202:
            assert limits["r"] == 50 - len(codes)
        if r.status_code == 429:
            assert int(r.headers["Retry-After"]) >= 1
            assert limits["r"] == 0 and limits["t"] >= int(r.headers["Retry-After"])
            assert r.json()["code"] == "rate_limited"
            break
    assert codes.count(202) == 50 and codes[-1] == 429
