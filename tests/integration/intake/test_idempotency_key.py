"""Idempotency-Key on report submission: replays, conflicts, per-client keys, races, expiry."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from libs.common.clock import FakeClock
from services.intake.models import IDEMPOTENCY_KEYS, Report
from tests.integration.intake.conftest import IntakeStack, intake_stack_on
from tests.support.natsd import NatsServer
from tests.support.reports import report_body


def _headers(stack: IntakeStack, client: str, key: str) -> dict[str, str]:
    token = stack.issuer.token(["reports:submit"], ["lifeline-intake"], client_id=client)
    return {"Authorization": f"Bearer {token}", "Idempotency-Key": f'"{key}"'}


async def _count(stack: IntakeStack, table: object) -> int:
    async with stack.app.state.container.runtime.sessions() as s:
        return int((await s.execute(select(func.count()).select_from(table))).scalar_one())


async def _reports(stack: IntakeStack) -> int:
    return await _count(stack, Report)


async def test_a_retry_gets_the_first_answer_and_creates_nothing(
    intake_stack: IntakeStack,
) -> None:
    key, body = str(uuid.uuid4()), report_body()
    first = await intake_stack.http.post(
        "/v1/reports", json=body, headers=_headers(intake_stack, "client-a", key)
    )
    assert first.status_code == 202, first.text
    assert "Idempotent-Replayed" not in first.headers
    before = await _reports(intake_stack)
    again = await intake_stack.http.post(
        "/v1/reports", json=body, headers=_headers(intake_stack, "client-a", key)
    )
    # The first answer (202 `received`), not the client_report_id duplicate's 200.
    assert (again.status_code, again.json()) == (202, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await _reports(intake_stack) == before


async def test_the_same_key_with_another_body_is_a_conflict(intake_stack: IntakeStack) -> None:
    key = str(uuid.uuid4())
    headers = _headers(intake_stack, "client-b", key)
    ok = await intake_stack.http.post("/v1/reports", json=report_body(), headers=headers)
    assert ok.status_code == 202
    before = await _reports(intake_stack)
    other = await intake_stack.http.post("/v1/reports", json=report_body(), headers=headers)
    assert other.status_code == 409
    assert other.headers["content-type"] == "application/problem+json"
    assert other.json()["code"] == "idempotency_key_reused"
    assert await _reports(intake_stack) == before


async def test_keys_belong_to_their_client(intake_stack: IntakeStack) -> None:
    key = str(uuid.uuid4())
    one = await intake_stack.http.post(
        "/v1/reports", json=report_body(), headers=_headers(intake_stack, "client-c", key)
    )
    two = await intake_stack.http.post(
        "/v1/reports", json=report_body(), headers=_headers(intake_stack, "client-d", key)
    )
    assert (one.status_code, two.status_code) == (202, 202)
    assert one.json()["report_id"] != two.json()["report_id"]
    assert "Idempotent-Replayed" not in two.headers


@pytest.mark.parametrize("value", ['"short"', '"' + "k" * 256 + '"', '"tab\there"', "no spaces"])
async def test_a_malformed_key_is_refused_before_anything_is_stored(
    intake_stack: IntakeStack, value: str
) -> None:
    before = await _reports(intake_stack)
    headers = {**_headers(intake_stack, "client-e", "x" * 16), "Idempotency-Key": value}
    resp = await intake_stack.http.post("/v1/reports", json=report_body(), headers=headers)
    assert resp.status_code == 400, resp.text
    assert resp.json()["code"] == "malformed_idempotency_key"
    assert await _reports(intake_stack) == before
    assert await _count(intake_stack, IDEMPOTENCY_KEYS) == 0


async def test_a_refused_request_releases_its_key(intake_stack: IntakeStack) -> None:
    key = str(uuid.uuid4())
    bad = report_body(incident_type="not-a-type")
    refused = await intake_stack.http.post(
        "/v1/reports", json=bad, headers=_headers(intake_stack, "client-f", key)
    )
    assert refused.status_code == 422
    fixed = await intake_stack.http.post(
        "/v1/reports", json=report_body(), headers=_headers(intake_stack, "client-f", key)
    )
    assert fixed.status_code == 202, fixed.text


async def test_concurrent_requests_with_one_key_create_one_report(
    intake_stack: IntakeStack,
) -> None:
    key, body = str(uuid.uuid4()), report_body()
    before = await _reports(intake_stack)
    answers = await asyncio.gather(
        *(
            intake_stack.http.post(
                "/v1/reports", json=body, headers=_headers(intake_stack, "client-g", key)
            )
            for _ in range(8)
        )
    )
    statuses = sorted(a.status_code for a in answers)
    assert set(statuses) <= {202, 409}, [a.text for a in answers]
    for answer in answers:
        if answer.status_code == 409:
            assert answer.json()["code"] == "idempotency_in_progress"
            assert answer.headers["Retry-After"] == "1"
    ids = {a.json()["report_id"] for a in answers if a.status_code == 202}
    assert len(ids) == 1
    assert await _reports(intake_stack) == before + 1


async def test_a_key_expires_and_is_pruned(
    nats_server: NatsServer, db_url_factory, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    clock = FakeClock(datetime.now(UTC))
    async with intake_stack_on(nats_server.url, db_url_factory, tmp_path, clock=clock) as stack:
        key = str(uuid.uuid4())
        first = await stack.http.post(
            "/v1/reports", json=report_body(), headers=_headers(stack, "client-h", key)
        )
        assert first.status_code == 202
        clock.advance(86_400 + 1)
        # After 24 hours the key is new again: a different body is accepted, not a conflict.
        later = await stack.http.post(
            "/v1/reports", json=report_body(), headers=_headers(stack, "client-h", key)
        )
        assert later.status_code == 202, later.text
        assert "Idempotent-Replayed" not in later.headers
        assert later.json()["report_id"] != first.json()["report_id"]
        # The expired row went; only the new claim is left.
        assert await _count(stack, IDEMPOTENCY_KEYS) == 1


async def test_without_the_header_nothing_is_kept(intake_stack: IntakeStack) -> None:
    token = intake_stack.issuer.token(["reports:submit"], ["lifeline-intake"])
    headers = {"Authorization": f"Bearer {token}"}
    resp = await intake_stack.http.post("/v1/reports", json=report_body(), headers=headers)
    assert resp.status_code == 202
    assert await _count(intake_stack, IDEMPOTENCY_KEYS) == 0
