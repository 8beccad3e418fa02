"""Follow-ups at intake: only a live report of the submitter's own partner may be followed up."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from sqlalchemy import func, select

from libs.common.db import transaction
from services.intake import repository as repo
from tests.integration.intake.conftest import IntakeStack
from tests.integration.intake.test_submit import _event_for
from tests.support.natsd import NatsServer
from tests.support.reports import report_body


def _follow_up(original: str, status: str = "deported") -> dict[str, object]:
    body = report_body()
    del body["subject"]  # a follow-up is about the original's person: no tokens again
    return {**body, "follows": original, "status": status, "incident_type": "deportation"}


async def _submit(
    stack: IntakeStack, body: dict[str, object], org: str = "partner-a"
) -> httpx.Response:
    return await stack.http.post("/v1/reports", json=body, headers=stack.headers(org=org))


async def _count(stack: IntakeStack) -> int:
    async with stack.app.state.container.runtime.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(repo.REPORTS))).scalar_one())


async def test_a_follow_up_is_accepted_and_its_event_names_the_original_and_status(
    intake_stack: IntakeStack, nats_server: NatsServer
) -> None:
    first = await _submit(intake_stack, report_body())
    original = first.json()["report_id"]
    resp = await _submit(intake_stack, _follow_up(original))
    assert resp.status_code == 202, resp.text
    follow_up = resp.json()["report_id"]
    event = await _event_for(nats_server, follow_up)
    assert (event.data["follows"], event.data["status"], event.data["tokens"]) == (
        original,
        "deported",
        [],
    )
    receipts = await intake_stack.http.get("/v1/reports", headers=intake_stack.headers())
    by_id = {r["report_id"]: r for r in receipts.json()}
    assert by_id[follow_up]["follows"] == original and by_id[original]["follows"] is None


async def test_another_partners_report_cannot_be_followed_up(intake_stack: IntakeStack) -> None:
    theirs = (await _submit(intake_stack, report_body(), org="partner-b")).json()["report_id"]
    before = await _count(intake_stack)
    for follows in (theirs, "00000000-0000-4000-8000-000000000000"):
        resp = await _submit(intake_stack, _follow_up(follows))
        # The same answer whether the report is another partner's or does not exist at all.
        assert resp.status_code == 422, resp.text
        assert resp.json()["code"] == "unknown_original"
        assert [f["path"] for f in resp.json()["fields"]] == ["follows"]
    assert await _count(intake_stack) == before  # nothing stored, so nothing published


async def test_an_erased_report_cannot_be_followed_up(intake_stack: IntakeStack) -> None:
    original = (await _submit(intake_stack, report_body())).json()["report_id"]
    # What the `report.erased` consumer does when sharing erases it.
    async with transaction(intake_stack.app.state.container.runtime.sessions) as session:
        await repo.mark_erased(session, original, datetime.now(UTC))
    before = await _count(intake_stack)
    resp = await _submit(intake_stack, _follow_up(original))
    assert resp.status_code == 409, resp.text
    assert resp.json()["code"] == "original_erased"
    assert await _count(intake_stack) == before


async def test_a_follow_up_must_say_where_the_case_stands(intake_stack: IntakeStack) -> None:
    original = (await _submit(intake_stack, report_body())).json()["report_id"]
    body = _follow_up(original)
    del body["status"]
    resp = await _submit(intake_stack, body)
    assert resp.status_code == 422 and resp.json()["code"] == "invalid_input"
    # And a new report (no `follows`) still needs its subject.
    no_subject = report_body()
    del no_subject["subject"]
    assert (await _submit(intake_stack, no_subject)).status_code == 422
