"""Idempotency-Key on sharing's admin creates: replayed answers, per-client keys, kept secrets."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import text

from tests.integration.auth.conftest import Sharing
from tests.support.access import Client


async def _post(sharing: Sharing, admin: Client, path: str, key: str, **kw: Any) -> httpx.Response:
    headers = {**await admin.reused_headers(sharing.http), "Idempotency-Key": f'"{key}"'}
    return await sharing.http.post(f"{sharing.url}{path}", headers=headers, **kw)


async def _count(sharing: Sharing, table: str) -> int:
    async with sharing.engine.connect() as conn:
        return int((await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


async def test_a_retried_partner_creation_creates_one_partner(sharing: Sharing) -> None:
    key = str(uuid.uuid4())
    first = await _post(sharing, sharing.admin, "/v1/admin/partners", key, json={"name": "GE"})
    assert first.status_code == 201, first.text
    partners = await _count(sharing, "partners")
    again = await _post(sharing, sharing.admin, "/v1/admin/partners", key, json={"name": "GE"})
    assert (again.status_code, again.json()) == (201, first.json())
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await _count(sharing, "partners") == partners
    other = await _post(sharing, sharing.admin, "/v1/admin/partners", key, json={"name": "AM"})
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    # The same key on another route is another request too.
    client = {"partner_id": first.json()["id"], "name": "tool", "role": "submitter"}
    elsewhere = await _post(sharing, sharing.admin, "/v1/admin/clients", key, json=client)
    assert elsewhere.status_code == 409 and elsewhere.json()["code"] == "idempotency_key_reused"
    assert await _count(sharing, "partners") == partners


async def test_another_admins_key_is_its_own(sharing: Sharing) -> None:
    second = await sharing.client("admin", partner_id=sharing.admin.partner_id)
    key, body = str(uuid.uuid4()), {"name": "RS"}
    one = await _post(sharing, sharing.admin, "/v1/admin/partners", key, json=body)
    two = await _post(sharing, second, "/v1/admin/partners", key, json=body)
    assert (one.status_code, two.status_code) == (201, 201)
    assert one.json()["id"] != two.json()["id"]
    assert "Idempotent-Replayed" not in two.headers


async def test_an_enrolment_code_is_never_kept_for_a_replay(sharing: Sharing) -> None:
    lawyer = await sharing.client("watchlist:manage")
    path, key = f"/v1/admin/clients/{lawyer.client_id}/enrolments", str(uuid.uuid4())
    first = await _post(sharing, sharing.admin, path, key)
    assert first.status_code == 201, first.text
    code = first.json()["code"]
    enrolments = await _count(sharing, "enrolments")
    again = await _post(sharing, sharing.admin, path, key)
    assert again.status_code == 409
    assert again.json()["code"] == "idempotency_replay_withheld"
    assert code not in again.text
    assert await _count(sharing, "enrolments") == enrolments
    async with sharing.engine.connect() as conn:
        bodies = (await conn.execute(text("SELECT body, status FROM idempotency_keys"))).all()
    withheld = [row for row in bodies if row.body is None]
    assert [row.status for row in withheld] == [201]
    assert all(code not in (row.body or "") for row in bodies)
