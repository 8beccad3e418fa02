"""Bad input gets a clear 4xx naming the field, and nothing is written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from libs.common.reports.charges import REFUSAL
from services.intake import repository as repo
from tests.integration.intake.conftest import IntakeStack
from tests.support.reports import report_body, token_value


async def _rows(stack: IntakeStack) -> tuple[int, int]:
    async with stack.app.state.container.runtime.sessions() as s:
        reports = (await s.execute(select(func.count()).select_from(repo.REPORTS))).scalar_one()
        outbox = (await s.execute(select(func.count()).select_from(repo.OUTBOX))).scalar_one()
    return reports, outbox


def _with(path: str, value: Any) -> dict[str, Any]:
    body = report_body()
    *parents, last = path.split(".")
    node = body
    for p in parents:
        node = node[p]
    node[last] = value
    return body


CASES = [
    ("wrong type", _with("incident_type", 42), "incident_type"),
    ("unknown incident type", _with("incident_type", "arrest"), "incident_type"),
    ("future date", _with("occurred_at", "2999-01-01"), "occurred_at"),
    ("naive time", _with("occurred_at", "2026-11-20T06:40:00"), "occurred_at"),
    ("unknown country", _with("place.country", "XX"), "place.country"),
    ("lower-case country", _with("place.country", "kg"), "place.country"),
    ("control character", _with("narrative", "line\x00break"), "narrative"),
    ("escape sequence", _with("place.locality", "Bishkek\x1b[31m"), "place.locality"),
    ("plain name smuggled in", {**report_body(), "name": "Lev Skoryakin"}, "name"),
    ("name inside subject", _with("subject.name", "Lev Skoryakin"), "subject.name"),
    ("too many charges", _with("charges", [{"state": "RU", "article": "280.3"}] * 21), "charges"),
    (
        "too many tokens",
        _with("subject.tokens", [{"kind": "k", "version": 1, "value": token_value()}] * 17),
        "subject.tokens",
    ),
    ("no tokens", _with("subject.tokens", []), "subject.tokens"),
    (
        "bad token value",
        _with("subject.tokens", [{"kind": "k", "version": 1, "value": "<script>"}]),
        "subject.tokens.0.value",
    ),
    ("narrative too long", _with("narrative", "x" * 20_001), "narrative"),
    ("missing tlp", {k: v for k, v in report_body().items() if k != "tlp"}, "tlp"),
    ("bad tlp", _with("tlp", "PURPLE"), "tlp"),
    (
        "bad article",
        _with("charges", [{"state": "RU", "article": "1; drop table"}]),
        "charges.0.article",
    ),
]


@pytest.mark.parametrize(("label", "body", "field"), CASES, ids=[c[0] for c in CASES])
async def test_invalid_reports_are_refused_with_the_field_named(
    intake_module_stack: IntakeStack, label: str, body: dict[str, Any], field: str
) -> None:
    intake_stack = intake_module_stack  # refused: nothing is written to the shared stack
    resp = await intake_stack.http.post("/v1/reports", json=body, headers=intake_stack.headers())
    assert resp.status_code == 422, (label, resp.text)
    answer = resp.json()
    assert answer["code"] == "invalid_input"
    assert any(f["path"] == field or f["path"].startswith(field + ".") for f in answer["fields"]), (
        answer
    )
    assert "Skoryakin" not in resp.text  # rejected input is never echoed back
    assert await _rows(intake_stack) == (0, 0)


async def test_malformed_json_oversized_bodies_and_huge_lists_are_refused(
    intake_module_stack: IntakeStack,
) -> None:
    intake_stack = intake_module_stack  # refused: nothing is written to the shared stack
    headers = {**intake_stack.headers(), "Content-Type": "application/json"}
    broken = await intake_stack.http.post(
        "/v1/reports", content=b'{"incident_type": ', headers=headers
    )
    assert broken.status_code == 400 and broken.json()["code"] == "malformed_json"
    huge = await intake_stack.http.post("/v1/reports", content=b" " * 10_000_000, headers=headers)
    assert huge.status_code == 413 and huge.json()["code"] == "payload_too_large"
    many = json.dumps(_with("charges", [{"state": "RU", "article": "1"}] * 100_000)).encode()
    listed = await intake_stack.http.post("/v1/reports", content=many, headers=headers)
    assert listed.status_code == 413
    assert await _rows(intake_stack) == (0, 0)


async def test_access_is_write_only_and_scoped(intake_stack: IntakeStack) -> None:
    body = report_body()
    anonymous = await intake_stack.http.post("/v1/reports", json=body)
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthenticated"
    reader = intake_stack.headers(scopes=("reports:read",))
    assert (
        await intake_stack.http.post("/v1/reports", json=body, headers=reader)
    ).status_code == 403
    submitter = intake_stack.headers()
    accepted = await intake_stack.http.post("/v1/reports", json=body, headers=submitter)
    report_id = accepted.json()["report_id"]
    # A submitter cannot read a report back: there is no such route on intake. Its partner's
    # receipts list (the console's submissions page) holds ids and progress, never content.
    resp = await intake_stack.http.get(f"/v1/reports/{report_id}", headers=submitter)
    assert resp.status_code in {404, 405}
    listed = await intake_stack.http.get("/v1/reports", headers=submitter)
    assert listed.status_code == 200 and report_id in listed.text
    for content in (body["narrative"], body["place"]["locality"], "subject", "narrative"):
        assert content not in listed.text
    wrong_audience = intake_stack.issuer.token(["reports:submit"], ["lifeline-alerts"])
    resp = await intake_stack.http.post(
        "/v1/reports", json=report_body(), headers={"Authorization": f"Bearer {wrong_audience}"}
    )
    assert resp.status_code == 401


async def test_charge_articles_in_their_codes_forms_and_a_readable_refusal(
    intake_stack: IntakeStack,
) -> None:
    written = [{"state": "BY", "article": "ч. 1 ст. 361-1"}, {"state": "RU", "article": "205.2(2)"}]
    ok = await intake_stack.http.post(
        "/v1/reports", json=_with("charges", written), headers=intake_stack.headers()
    )
    assert ok.status_code == 202, ok.text
    refused = await intake_stack.http.post(
        "/v1/reports",
        json=_with("charges", [{"state": "RU", "article": "статья двести восемь"}]),
        headers=intake_stack.headers(),
    )
    assert refused.status_code == 422, refused.text
    (field,) = refused.json()["fields"]
    assert field["path"] == "charges.0.article"
    # Words a partner can act on, not the pattern the value failed.
    assert field["reason"] == REFUSAL, field
