"""Registered roles in the registry: bounds on scopes, `admin` for the operator only, partner admins."""

from __future__ import annotations

from typing import Any

import httpx
import jwt

from libs.sdk import generate_private_key, public_jwk
from tests.integration.auth.conftest import Sharing
from tests.support.access import Client


def _body(partner_id: str, role: str, *scopes: str) -> dict[str, Any]:
    return {"partner_id": partner_id, "name": "tool", "role": role, "scopes": list(scopes)}


async def _as(sharing: Sharing, who: Client, method: str, path: str, **kw: Any) -> httpx.Response:
    headers = await who.headers(sharing.http)
    return await sharing.http.request(method, sharing.url + path, headers=headers, **kw)


async def test_a_role_bounds_its_scopes(sharing: Sharing) -> None:
    partner = (await sharing.admin_call("POST", "/v1/admin/partners", json={"name": "P"})).json()
    for role, scopes in [
        ("submitter", ("reports:submit", "reports:read")),
        ("submitter", ("reports:manage",)),
        ("lawyer", ("reports:manage",)),
        ("reader", ("clients:manage",)),
        ("partner_admin", ("reports:submit",)),
    ]:
        resp = await sharing.admin_call(
            "POST", "/v1/admin/clients", json=_body(partner["id"], role, *scopes)
        )
        assert resp.status_code == 422, (role, scopes, resp.text)
        assert resp.json()["fields"] == [
            {"path": "scopes", "reason": resp.json()["fields"][0]["reason"]}
        ]
    resp = await sharing.admin_call(
        "POST", "/v1/admin/clients", json=_body(partner["id"], "nobody", "reports:read")
    )
    assert resp.status_code == 422 and resp.json()["fields"][0]["path"] == "role"


async def test_only_the_operators_organisation_holds_admin(sharing: Sharing) -> None:
    partner = (await sharing.admin_call("POST", "/v1/admin/partners", json={"name": "P"})).json()
    for role in ("operator", "partner_admin", "reader"):
        resp = await sharing.admin_call(
            "POST", "/v1/admin/clients", json=_body(partner["id"], role, "admin")
        )
        assert resp.status_code == 422, (role, resp.text)
    paths = {f["path"] for f in resp.json()["fields"]}
    assert paths == {"scopes"}
    # The operator's own organisation (the bootstrap admin's) may have another operator.
    operator = await sharing.client("admin", partner_id=sharing.admin.partner_id)
    token = await operator.token(sharing.http)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["role"], claims["scope"]) == ("operator", "admin")


async def test_a_token_carries_the_registered_role(sharing: Sharing) -> None:
    lawyer = await sharing.client("reports:read", "alerts:read", role="lawyer")
    token = await lawyer.token(sharing.http, scopes=["reports:read"])
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["role"], claims["scope"]) == ("lawyer", "reports:read")
    whoami = await sharing.http.get(
        f"{sharing.url}/v1/auth/whoami", headers={"Authorization": f"Bearer {token}"}
    )
    assert whoami.status_code == 200


async def test_a_partner_admin_manages_its_own_partners_clients_only(sharing: Sharing) -> None:
    boss = await sharing.client("clients:manage", role="partner_admin")
    stranger = await sharing.client("reports:submit")
    mine = boss.partner_id

    created = await _as(
        sharing, boss, "POST", "/v1/admin/clients", json=_body(mine, "submitter", "reports:submit")
    )
    assert created.status_code == 201, created.text
    client_id = created.json()["id"]
    key = await _as(
        sharing,
        boss,
        "POST",
        f"/v1/admin/clients/{client_id}/keys",
        json={"public_key": public_jwk(generate_private_key())},
    )
    assert key.status_code == 201, key.text
    listed = await _as(sharing, boss, "GET", "/v1/admin/clients")
    assert {c["partner_id"] for c in listed.json()} == {mine}
    revoked = await _as(sharing, boss, "POST", f"/v1/admin/keys/{key.json()['kid']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"

    # Another partner: creating is refused (403); its clients and keys do not exist for it.
    other = await _as(
        sharing,
        boss,
        "POST",
        "/v1/admin/clients",
        json=_body(stranger.partner_id, "submitter", "reports:submit"),
    )
    assert other.status_code == 403, other.text
    assert other.json()["code"] == "forbidden"
    listing = await _as(
        sharing, boss, "GET", "/v1/admin/clients", params={"partner_id": stranger.partner_id}
    )
    assert listing.status_code == 403
    for method, path in [
        ("GET", f"/v1/admin/clients/{stranger.client_id}"),
        ("POST", f"/v1/admin/clients/{stranger.client_id}/revoke"),
        ("GET", f"/v1/admin/clients/{stranger.client_id}/keys"),
        ("GET", f"/v1/admin/keys/{stranger.kid}"),
        ("POST", f"/v1/admin/keys/{stranger.kid}/revoke"),
    ]:
        resp = await _as(sharing, boss, method, path)
        assert resp.status_code == 404, (method, path, resp.text)
    assert await stranger.token(sharing.http)  # still signs in

    # Never an operator, never `admin`, and no partner-level routes.
    for body in (_body(mine, "operator", "admin"), _body(mine, "partner_admin", "admin")):
        resp = await _as(sharing, boss, "POST", "/v1/admin/clients", json=body)
        assert resp.status_code in (403, 422), resp.text
    assert (await _as(sharing, boss, "GET", "/v1/admin/partners")).status_code == 403
    assert (
        await _as(sharing, boss, "POST", f"/v1/admin/partners/{mine}/disable")
    ).status_code == 403
