"""Two-person approval on a real sharing: gated actions wait for a second operator, then run once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from libs.sdk import TokenRequestError, generate_private_key, public_jwk
from tests.integration.vault.conftest import Vault, cli_json, grant, running_vault, vault_settings
from tests.support.access import Client
from tests.support.auth import role_for
from tests.support.natsd import NatsServer

GATED = {
    "approval_key_registration": True,
    "approval_policy_change": True,
    "approval_erasure": True,
    "approval_seizure_lift": True,
}


@pytest.fixture
async def gated(
    nats_server: NatsServer, db_url_factory: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[Vault]:
    """A sharing with every action gated, and a second operator (enrolled while alone)."""
    settings = vault_settings(tmp_path, nats_server.url, db_url_factory("sharing"), **GATED)
    async with httpx.AsyncClient(timeout=15) as http, running_vault(settings, http) as v:
        second = await v.client("admin", partner_id=v.admin.partner_id)
        v.extra = {"second": second}  # type: ignore[attr-defined]
        yield v


def _second(vault: Vault) -> Client:
    return vault.extra["second"]  # type: ignore[attr-defined,no-any-return]


async def _enrolled(vault: Vault, *scopes: str, partner_id: str | None = None) -> Client:
    """A new client whose key the second operator approved (as every key is, once gated)."""
    if partner_id is None:
        resp = await vault.admin_call("POST", "/v1/admin/partners", json={"name": "Partner"})
        partner_id = resp.json()["id"]
    body = {"partner_id": partner_id, "name": "c", "role": role_for(scopes), "scopes": scopes}
    client_id = (await vault.admin_call("POST", "/v1/admin/clients", json=body)).json()["id"]
    key = generate_private_key()
    asked = await vault.admin_call(
        "POST", f"/v1/admin/clients/{client_id}/keys", json={"public_key": public_jwk(key)}
    )
    assert asked.status_code == 202, asked.text
    done = await _decide(vault, _second(vault), asked.json()["approval"]["id"], "approve")
    assert done.json()["status"] == "done", done.text
    return Client(vault.url, client_id, partner_id, key, scopes)


async def _entries(vault: Vault, action: str) -> list[dict[str, Any]]:
    resp = await vault.admin_call("GET", "/v1/admin/audit", params={"limit": 1000})
    return [e for e in resp.json()["entries"] if e["action"] == action]


async def _decide(vault: Vault, who: Client, approval_id: str, how: str) -> httpx.Response:
    return await vault.call(who, "POST", f"/v1/admin/approvals/{approval_id}/{how}")


async def _can_sign_in(vault: Vault, client: Client) -> bool:
    try:
        await client.token(vault.http)
    except TokenRequestError:
        return False
    return True


async def test_a_key_waits_for_a_second_operator_and_is_registered_once(gated: Vault) -> None:
    vault, second = gated, _second(gated)
    target = await _enrolled(vault, "reports:read")
    key = generate_private_key()
    renewed = Client(target.sharing_url, target.client_id, target.partner_id, key, target.scopes)
    path = f"/v1/admin/clients/{target.client_id}/keys"

    asked = await vault.admin_call("POST", path, json={"public_key": public_jwk(key)})

    assert asked.status_code == 202, asked.text
    approval = asked.json()["approval"]
    assert approval["action"] == "key_registration" and approval["status"] == "pending"
    assert approval["request"]["new_kid"] == renewed.kid
    assert not await _can_sign_in(vault, renewed)
    assert len((await vault.admin_call("GET", path)).json()) == 1
    mine = await _decide(vault, vault.admin, approval["id"], "approve")
    assert mine.status_code == 403 and mine.json()["code"] == "same_operator", mine.text
    assert not await _can_sign_in(vault, renewed)

    approved = await _decide(vault, second, approval["id"], "approve")

    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "done"
    assert approved.json()["outcome"]["result"]["kid"] == renewed.kid
    assert await _can_sign_in(vault, renewed)
    again = await _decide(vault, second, approval["id"], "approve")
    assert again.status_code == 409, again.text
    requests = await _entries(vault, "approval.request")
    assert [e["actor"] for e in requests if e["target"] == approval["id"]] == [
        vault.admin.client_id
    ]
    approvals = await _entries(vault, "approval.approve")
    assert [e["actor"] for e in approvals if e["target"] == approval["id"]] == [second.client_id]
    registered = [e for e in await _entries(vault, "key.register") if e["target"] == renewed.kid]
    assert len(registered) == 1


async def test_a_rotation_registers_its_new_key_only_once_approved(gated: Vault) -> None:
    vault, second = gated, _second(gated)
    target = await _enrolled(vault, "reports:read")
    key = generate_private_key()
    renewed = Client(target.sharing_url, target.client_id, target.partner_id, key, target.scopes)

    asked = await vault.admin_call(
        "POST", f"/v1/admin/keys/{target.kid}/rotate", json={"public_key": public_jwk(key)}
    )

    assert asked.status_code == 202, asked.text
    assert await _can_sign_in(vault, target) and not await _can_sign_in(vault, renewed)
    done = await _decide(vault, second, asked.json()["approval"]["id"], "approve")
    assert done.json()["status"] == "done", done.text
    assert done.json()["outcome"]["result"]["old"]["status"] == "revoked"
    assert await _can_sign_in(vault, renewed) and not await _can_sign_in(vault, target)


async def test_concurrent_approvals_run_the_action_once(gated: Vault) -> None:
    vault, second = gated, _second(gated)
    third = await _enrolled(vault, "admin", partner_id=vault.admin.partner_id)
    target = await _enrolled(vault, "reports:read")
    key = generate_private_key()
    asked = await vault.admin_call(
        "POST",
        f"/v1/admin/clients/{target.client_id}/keys",
        json={"public_key": public_jwk(key)},
    )
    assert asked.status_code == 202, asked.text
    approval_id = asked.json()["approval"]["id"]
    # Both operators sign in first, so that the two approvals reach sharing together.
    await second.token(vault.http), await third.token(vault.http)

    answers = await asyncio.gather(
        *(_decide(vault, who, approval_id, "approve") for who in (second, third, second, third))
    )

    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409], [a.text for a in answers]
    kid = Client(target.sharing_url, target.client_id, target.partner_id, key, ()).kid
    assert len([e for e in await _entries(vault, "key.register") if e["target"] == kid]) == 1
    approvals = await _entries(vault, "approval.approve")
    assert len([e for e in approvals if e["target"] == approval_id]) == 1


async def test_a_policy_change_waits_and_a_denied_one_never_runs(gated: Vault) -> None:
    vault, second = gated, _second(gated)
    reader = await _enrolled(vault, "reports:read")
    doc = {"partner": reader.partner_id, "role": None, "grants": [grant()]}
    path = f"/v1/admin/policies/{reader.partner_id}"

    first = await vault.admin_call("PUT", path, json=doc)
    denied_one = await vault.admin_call("PUT", path, json=doc)

    assert first.status_code == 202 and denied_one.status_code == 202, first.text
    assert first.json()["approval"]["request"]["changes"]  # the approver sees the diff
    assert (await vault.admin_call("GET", path)).json()["policies"] == []
    denied = await _decide(vault, second, denied_one.json()["approval"]["id"], "deny")
    assert denied.status_code == 200 and denied.json()["status"] == "denied", denied.text
    late = await _decide(vault, second, denied_one.json()["approval"]["id"], "approve")
    assert late.status_code == 409, late.text
    assert (await vault.admin_call("GET", path)).json()["policies"] == []

    done = await _decide(vault, second, first.json()["approval"]["id"], "approve")

    assert done.json()["status"] == "done", done.text
    stored = (await vault.admin_call("GET", path)).json()["policies"]
    assert [p["version"] for p in stored] == [1]
    assert len(await _entries(vault, "policy.set")) == 1


async def test_a_partners_erasure_waits_for_an_operator(gated: Vault) -> None:
    vault, second = gated, _second(gated)
    manager = await _enrolled(vault, "reports:read", "reports:manage")
    report_id = await vault.submit(manager.partner_id)

    asked = await vault.call(manager, "DELETE", f"/v1/reports/{report_id}")

    assert asked.status_code == 202, asked.text
    approval = asked.json()["approval"]
    assert approval["requested_by"] == manager.client_id
    assert (await vault.call(manager, "GET", f"/v1/reports/{report_id}")).status_code == 200
    # A partner's client holds no `admin`: only an operator decides.
    refused = await _decide(vault, manager, approval["id"], "approve")
    assert refused.status_code == 403, refused.text

    done = await _decide(vault, second, approval["id"], "approve")

    assert done.json()["status"] == "done", done.text
    assert (await vault.call(manager, "GET", f"/v1/reports/{report_id}")).status_code == 410
    erased = [e for e in await _entries(vault, "report.erase") if e["target"] == report_id]
    assert [e["actor"] for e in erased] == [manager.client_id]


async def test_a_seizure_is_lifted_only_by_a_second_operator(gated: Vault) -> None:
    vault, second = gated, _second(gated)
    target = await _enrolled(vault, "reports:read")
    seized = await vault.admin_call(
        "POST", "/v1/admin/seizures", json={"client_id": target.client_id, "reason": "stolen"}
    )
    assert seized.status_code == 201, seized.text
    seizure_id = seized.json()["id"]

    asked = await vault.admin_call("POST", f"/v1/admin/seizures/{seizure_id}/lift")

    assert asked.status_code == 202, asked.text
    approval_id = asked.json()["approval"]["id"]
    client = await vault.admin_call("GET", f"/v1/admin/clients/{target.client_id}")
    assert client.json()["status"] == "seized"
    same = await _decide(vault, vault.admin, approval_id, "approve")
    assert same.status_code == 403 and same.json()["code"] == "same_operator"
    assert (await vault.admin_call("GET", f"/v1/admin/seizures/{seizure_id}")).json()[
        "status"
    ] == "active"

    done = await _decide(vault, second, approval_id, "approve")

    assert done.json()["status"] == "done", done.text
    lifted = (await vault.admin_call("GET", f"/v1/admin/seizures/{seizure_id}")).json()
    assert lifted["status"] == "lifted" and lifted["lift_approval_id"] == approval_id
    client = await vault.admin_call("GET", f"/v1/admin/clients/{target.client_id}")
    assert client.json()["status"] == "active"
    assert not await _can_sign_in(vault, target)  # its old key stays revoked


async def test_a_seizure_cancels_what_the_seized_client_asked_for(gated: Vault) -> None:
    vault, second = gated, _second(gated)
    manager = await _enrolled(vault, "clients:manage", "reports:read")
    helper = await _enrolled(vault, "reports:read", partner_id=manager.partner_id)
    asked = await vault.call(
        manager,
        "POST",
        f"/v1/admin/clients/{helper.client_id}/keys",
        json={"public_key": public_jwk(generate_private_key())},
    )
    assert asked.status_code == 202, asked.text
    approval_id = asked.json()["approval"]["id"]

    seized = await vault.admin_call(
        "POST", "/v1/admin/seizures", json={"client_id": manager.client_id, "reason": "raid"}
    )

    assert seized.json()["taken"]["approvals"] == [approval_id], seized.text
    late = await _decide(vault, second, approval_id, "approve")
    assert late.status_code == 409, late.text
    shown = await vault.call(second, "GET", f"/v1/admin/approvals/{approval_id}")
    assert shown.json()["status"] == "cancelled"


async def test_a_pending_approval_expires(
    nats_server: NatsServer, db_url_factory: Callable[[str], str], tmp_path: Path
) -> None:
    settings = vault_settings(
        tmp_path, nats_server.url, db_url_factory("sharing"), approval_ttl_s=1.0, **GATED
    )
    async with httpx.AsyncClient(timeout=15) as http, running_vault(settings, http) as vault:
        second = await vault.client("admin", partner_id=vault.admin.partner_id)
        partner = (await vault.admin_call("POST", "/v1/admin/partners", json={"name": "P"})).json()
        doc = {"partner": partner["id"], "role": None, "grants": [grant()]}
        path = f"/v1/admin/policies/{partner['id']}"
        asked = await vault.admin_call("PUT", path, json=doc)
        assert asked.status_code == 202, asked.text
        await asyncio.sleep(1.5)

        late = await _decide(vault, second, asked.json()["approval"]["id"], "approve")

        assert late.status_code == 409, late.text
        listed = (await vault.call(second, "GET", "/v1/admin/approvals")).json()
        assert [a["status"] for a in listed] == ["expired"]
        assert (await vault.admin_call("GET", path)).json()["policies"] == []


async def _register_key(sharing: Vault) -> httpx.Response:
    body = {"partner_id": sharing.admin.partner_id, "name": "c", "role": "submitter",
            "scopes": ["reports:submit"]}  # fmt: skip
    target = (await sharing.admin_call("POST", "/v1/admin/clients", json=body)).json()
    return await sharing.admin_call(
        "POST",
        f"/v1/admin/clients/{target['id']}/keys",
        json={"public_key": public_jwk(generate_private_key())},
    )


async def test_with_the_setting_off_a_key_is_registered_at_once(vault: Vault) -> None:
    second = await vault.client("admin", partner_id=vault.admin.partner_id)
    assert second.client_id
    resp = await _register_key(vault)
    assert resp.status_code == 201, resp.text


async def test_with_no_second_operator_able_to_sign_in_the_action_runs_at_once(
    gated: Vault,
) -> None:
    assert (await _register_key(gated)).status_code == 202
    second = _second(gated)
    resp = await gated.admin_call("POST", f"/v1/admin/clients/{second.client_id}/revoke")
    assert resp.status_code == 200, resp.text
    resp = await _register_key(gated)
    assert resp.status_code == 201, resp.text


async def test_the_cli_lists_and_approves(gated: Vault, tmp_path: Path) -> None:
    vault, second = gated, _second(gated)
    target = await _enrolled(vault, "reports:read")
    seized = await cli_json(
        vault, vault.admin, tmp_path / "a", "admin", "seize", "--client", target.client_id,
        "--reason", "lost", "--yes",
    )  # fmt: skip
    pending = await cli_json(vault, vault.admin, tmp_path / "a", "admin", "seizures", "lift",
                             seized["id"])  # fmt: skip
    approval_id = pending["approval"]["id"]
    listed = await cli_json(
        vault, second, tmp_path / "b", "admin", "approvals", "list", "--status", "pending"
    )
    assert [a["id"] for a in listed] == [approval_id]
    done = await cli_json(vault, second, tmp_path / "b", "admin", "approvals", "approve",
                          approval_id)  # fmt: skip
    assert done["status"] == "done"
    shown = await cli_json(vault, second, tmp_path / "b", "admin", "seizures", "show", seized["id"])
    assert shown["status"] == "lifted"
