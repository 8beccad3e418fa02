"""Enrolment on a real sharing: a device registers its own key with a one-time code, pending
until an administrator confirms the fingerprint the device shows."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from libs.common.auth.jwk import b64url_encode
from libs.sdk import (
    TokenRequestError,
    fingerprint,
    generate_private_key,
    public_jwk,
    public_key_text,
)
from tests.integration.auth.conftest import Sharing, running_sharing, sharing_settings
from tests.support.access import Client
from tests.support.natsd import NatsServer
from tests.support.weak_keys import ED25519_SMALL_ORDER_CANONICAL


async def _code(sharing: Sharing, client_id: str, caller: Client | None = None) -> dict[str, Any]:
    path = f"/v1/admin/clients/{client_id}/enrolments"
    if caller is None:
        resp = await sharing.admin_call("POST", path)
    else:
        headers = await caller.headers(sharing.http)
        resp = await sharing.http.post(sharing.url + path, headers=headers)
    assert resp.status_code == 201, resp.text
    return resp.json()  # type: ignore[no-any-return]


async def _enrol(
    sharing: Sharing, code: str, key: Ed25519PrivateKey | dict[str, str] | str, name: str = "phone"
) -> httpx.Response:
    public = public_jwk(key) if isinstance(key, Ed25519PrivateKey) else key
    body = {"code": code, "public_key": public, "device_name": name}
    return await sharing.http.post(sharing.url + "/v1/enrol", json=body)


async def _confirm(sharing: Sharing, kid: str, shown: str) -> httpx.Response:
    path = f"/v1/admin/keys/{kid}/confirm"
    return await sharing.admin_call("POST", path, json={"fingerprint": shown})


async def _signs_in(sharing: Sharing, client_id: str, key: Ed25519PrivateKey) -> bool:
    device = Client(sharing.url, client_id, "", key, ())
    try:
        await device.token(sharing.http)
    except TokenRequestError as exc:
        assert exc.oauth_error == "invalid_client"
        return False
    return True


async def _enrolled_device(sharing: Sharing, client_id: str, name: str) -> Ed25519PrivateKey:
    key = generate_private_key()
    resp = await _enrol(sharing, (await _code(sharing, client_id))["code"], key, name)
    assert resp.status_code == 201, resp.text
    assert (await _confirm(sharing, resp.json()["kid"], fingerprint(key))).status_code == 200
    return key


async def test_a_device_enrols_is_confirmed_and_signs_in(sharing: Sharing) -> None:
    client = await sharing.client("reports:read")
    issued = await _code(sharing, client.client_id)
    code = issued["code"]
    assert len(code) >= 43 and issued["link"] == f"{sharing.url}/enrol#code={code}"
    listed = await sharing.admin_call("GET", f"/v1/admin/clients/{client.client_id}/enrolments")
    assert [e["status"] for e in listed.json()] == ["open"] and code not in listed.text

    key = generate_private_key()
    resp = await _enrol(sharing, code, public_key_text(key), "Anna's laptop")
    assert resp.status_code == 201, resp.text
    enrolled = resp.json()
    assert enrolled["status"] == "pending" and enrolled["fingerprint"] == fingerprint(key)
    assert enrolled["client_id"] == client.client_id
    kid = enrolled["kid"]
    # Pending: the key is registered but signs nothing until the fingerprint is confirmed.
    assert not await _signs_in(sharing, client.client_id, key)
    keys = (await sharing.admin_call("GET", f"/v1/admin/clients/{client.client_id}/keys")).json()
    pending = next(k for k in keys if k["kid"] == kid)
    assert pending["device_name"] == "Anna's laptop" and pending["status"] == "pending"
    assert pending["usable"] is False

    # The admin types what the device shows (grouping and case do not matter).
    confirmed = await _confirm(sharing, kid, enrolled["fingerprint"].upper().replace(" ", ""))
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "active" and confirmed.json()["usable"] is True
    assert await _signs_in(sharing, client.client_id, key)
    assert (await _confirm(sharing, kid, enrolled["fingerprint"])).status_code == 409

    listed = await sharing.admin_call("GET", f"/v1/admin/clients/{client.client_id}/enrolments")
    assert [(e["status"], e["kid"]) for e in listed.json()] == [("used", kid)]
    audit = (await sharing.admin_call("GET", "/v1/admin/audit", params={"limit": 1000})).json()
    actions = [e["action"] for e in audit["entries"] if e["action"].startswith(("enrol", "key."))]
    for action in ("enrolment.create", "key.enrol", "enrolment.use", "key.confirm"):
        assert action in actions
    assert code not in str(audit)


async def test_a_wrong_fingerprint_kills_the_pending_key(sharing: Sharing) -> None:
    client = await sharing.client("reports:read")
    key, other = generate_private_key(), generate_private_key()
    resp = await _enrol(sharing, (await _code(sharing, client.client_id))["code"], key)
    kid = resp.json()["kid"]
    refused = await _confirm(sharing, kid, fingerprint(other))
    assert refused.status_code == 409, refused.text
    shown = (await sharing.admin_call("GET", f"/v1/admin/keys/{kid}")).json()
    assert shown["status"] == "revoked"
    # The right fingerprint no longer helps: the key is dead, the device enrols again.
    assert (await _confirm(sharing, kid, fingerprint(key))).status_code == 409
    assert not await _signs_in(sharing, client.client_id, key)


async def test_a_key_left_pending_too_long_is_not_confirmed_late(sharing: Sharing) -> None:
    client = await sharing.client("reports:read")
    key = generate_private_key()
    kid = (await _enrol(sharing, (await _code(sharing, client.client_id))["code"], key)).json()
    # Two days ago, past the default day within which an enrolled key must be confirmed.
    await sharing.sql(
        "UPDATE client_keys SET created_at = :t WHERE kid = :k",
        t=datetime.now(UTC) - timedelta(days=2),
        k=kid["kid"],
    )
    late = await _confirm(sharing, kid["kid"], fingerprint(key))
    assert late.status_code == 409 and "too long" in late.json()["detail"], late.text
    shown = await sharing.admin_call("GET", f"/v1/admin/keys/{kid['kid']}")
    assert shown.json()["status"] == "revoked"
    assert not await _signs_in(sharing, client.client_id, key)


async def test_every_unusable_code_gets_the_same_answer(sharing: Sharing) -> None:
    client = await sharing.client("reports:read")
    cid = client.client_id
    used = (await _code(sharing, cid))["code"]
    assert (await _enrol(sharing, used, generate_private_key())).status_code == 201
    expired = await _code(sharing, cid)
    await sharing.sql(
        "UPDATE enrolments SET expires_at = created_at WHERE id = :i", i=expired["id"]
    )
    cancelled = await _code(sharing, cid)
    path = f"/v1/admin/clients/{cid}/enrolments/{cancelled['id']}"
    assert (await sharing.admin_call("DELETE", path)).json()["status"] == "cancelled"
    seized_client = await sharing.client("reports:read")
    seized = (await _code(sharing, seized_client.client_id))["code"]
    body = {"client_id": seized_client.client_id, "reason": "phone taken at the border"}
    assert (await sharing.admin_call("POST", "/v1/admin/seizures", json=body)).status_code == 201
    listed = await sharing.admin_call(
        "GET", f"/v1/admin/clients/{seized_client.client_id}/enrolments"
    )
    assert [e["status"] for e in listed.json()] == ["cancelled"]

    revoked_client = await sharing.client("reports:read")
    revoked = (await _code(sharing, revoked_client.client_id))["code"]
    path = f"/v1/admin/clients/{revoked_client.client_id}/revoke"
    assert (await sharing.admin_call("POST", path)).status_code == 200

    answers = set()
    for code in (used, expired["code"], cancelled["code"], seized, revoked, "A" * 43):
        resp = await _enrol(sharing, code, generate_private_key())
        # Each answer differs only by its request id: nothing tells the cases apart.
        body = {k: v for k, v in resp.json().items() if k != "request_id"}
        answers.add((resp.status_code, json.dumps(body, sort_keys=True)))
    assert len(answers) == 1
    status, body = answers.pop()
    assert status == 401 and json.loads(body)["code"] == "invalid_enrolment_code"
    assert json.loads(body)["detail"] == "the enrolment code is not valid"
    listed = await sharing.admin_call("GET", f"/v1/admin/clients/{cid}/enrolments")
    assert sorted(e["status"] for e in listed.json()) == ["cancelled", "expired", "used"]


async def test_a_weak_key_is_refused_and_the_code_is_kept(sharing: Sharing) -> None:
    client = await sharing.client("reports:read")
    code = (await _code(sharing, client.client_id))["code"]
    weak = "ed25519:" + b64url_encode(bytes.fromhex(ED25519_SMALL_ORDER_CANONICAL[0]))
    resp = await _enrol(sharing, code, weak)
    assert resp.status_code == 422 and resp.json()["code"] == "weak_key", resp.text
    assert (await _enrol(sharing, code, generate_private_key())).status_code == 201


async def test_a_partner_admin_enrols_only_its_own_partners_clients(sharing: Sharing) -> None:
    manager = await sharing.client("clients:manage", role="partner_admin")
    own = await sharing.client("reports:read", partner_id=manager.partner_id)
    stranger = await sharing.client("reports:read")
    headers = await manager.headers(sharing.http)
    for client_id, status in ((stranger.client_id, 404), (own.client_id, 201)):
        resp = await sharing.http.post(
            f"{sharing.url}/v1/admin/clients/{client_id}/enrolments", headers=headers
        )
        assert resp.status_code == status, resp.text
    # Nor can it confirm a device enrolled for another partner's client.
    key = generate_private_key()
    kid = (await _enrol(sharing, (await _code(sharing, stranger.client_id))["code"], key)).json()
    resp = await sharing.http.post(
        f"{sharing.url}/v1/admin/keys/{kid['kid']}/confirm",
        json={"fingerprint": fingerprint(key)},
        headers=headers,
    )
    assert resp.status_code == 404, resp.text
    assert not await _signs_in(sharing, stranger.client_id, key)


async def test_two_devices_are_revoked_one_at_a_time(sharing: Sharing) -> None:
    client = await sharing.client("reports:read")
    laptop = await _enrolled_device(sharing, client.client_id, "laptop")
    phone = await _enrolled_device(sharing, client.client_id, "phone")
    keys = (await sharing.admin_call("GET", f"/v1/admin/clients/{client.client_id}/keys")).json()
    assert {k["device_name"] for k in keys} == {None, "laptop", "phone"}
    laptop_kid = next(k["kid"] for k in keys if k["device_name"] == "laptop")
    assert (await sharing.admin_call("POST", f"/v1/admin/keys/{laptop_kid}/revoke")).is_success
    assert not await _signs_in(sharing, client.client_id, laptop)
    assert await _signs_in(sharing, client.client_id, phone)


@pytest.fixture
async def strict_sharing(
    nats_server: NatsServer, db_url_factory: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[Sharing]:
    """Key registration behind a second operator, and a small enrol budget per address."""
    settings = sharing_settings(
        tmp_path,
        nats_server.url,
        db_url_factory("sharing"),
        wire=False,
        approval_key_registration=True,
        enrol_source_burst=3,
        enrol_source_per_second=0.01,
    )
    async with httpx.AsyncClient(timeout=10) as http, running_sharing(settings, http) as s:
        yield s


async def test_confirming_waits_for_a_second_operator_when_gated(strict_sharing: Sharing) -> None:
    sharing = strict_sharing
    # While alone the first operator registers directly; the second one then decides.
    second = await sharing.client("admin", partner_id=sharing.admin.partner_id)
    body = {"partner_id": second.partner_id, "name": "c", "role": "operator", "scopes": ["admin"]}
    client_id = (await sharing.admin_call("POST", "/v1/admin/clients", json=body)).json()["id"]
    key = generate_private_key()
    kid = (await _enrol(sharing, (await _code(sharing, client_id))["code"], key)).json()
    wrong = await _confirm(sharing, kid["kid"], fingerprint(generate_private_key()))
    assert wrong.status_code == 409, wrong.text  # checked before anyone is asked to approve
    key = generate_private_key()  # a refused key stays dead: the device makes a new one
    kid = (await _enrol(sharing, (await _code(sharing, client_id))["code"], key)).json()
    asked = await _confirm(sharing, kid["kid"], fingerprint(key))
    assert asked.status_code == 202, asked.text
    approval = asked.json()["approval"]
    assert approval["request"]["kid"] == kid["kid"]
    assert not await _signs_in(sharing, client_id, key)
    headers = await second.headers(sharing.http)
    done = await sharing.http.post(
        f"{sharing.url}/v1/admin/approvals/{approval['id']}/approve", headers=headers
    )
    assert done.json()["status"] == "done", done.text
    assert await _signs_in(sharing, client_id, key)
    # The rate limit per source address: the budget of 3 is spent (two enrols above).
    # A malformed request counts too (the limit comes before the body is read).
    answers = [(await _enrol(sharing, "?", generate_private_key())).status_code for _ in "a"]
    assert answers == [422]
    resp = await _enrol(sharing, "A" * 43, generate_private_key())
    assert resp.status_code == 429 and "retry-after" in resp.headers
