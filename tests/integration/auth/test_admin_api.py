"""The admin API: bootstrap once, manage partners, clients and keys, every change audited."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from libs.sdk import (
    TokenRequestError,
    fingerprint,
    generate_private_key,
    public_jwk,
    public_key_text,
)
from tests.integration.auth.conftest import Sharing, running_sharing, sharing_settings
from tests.support.access import BOOTSTRAP_FILE, Client
from tests.support.natsd import NatsServer
from tests.support.problems import sameness


async def _audit_actions(sharing: Sharing) -> list[tuple[str, str, str]]:
    resp = await sharing.admin_call("GET", "/v1/admin/audit", params={"limit": 1000})
    return [(e["actor"], e["action"], e["target"]) for e in resp.json()["entries"]]


async def test_bootstrap_happens_once_and_its_secret_is_gone(sharing: Sharing) -> None:
    secret_file = sharing.settings.data_dir / BOOTSTRAP_FILE
    assert not secret_file.exists()  # used up by the fixture's bootstrap
    again = await sharing.http.post(
        sharing.url + "/v1/admin/bootstrap",
        json={"secret": "anything", "public_key": public_key_text(generate_private_key())},
    )
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    actions = await _audit_actions(sharing)
    assert [a[1] for a in actions[:3]] == ["partner.create", "client.create", "key.register"]
    assert {a[0] for a in actions[:3]} == {"bootstrap"}


async def test_bootstrap_needs_the_secret_and_only_one_of_two_racing_wins(
    nats_server: NatsServer, db_url_factory, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # In process the racing requests interleave tightest: a loser waits on the winner's lock.
    settings = sharing_settings(tmp_path, nats_server.url, db_url_factory("sharing"), wire=False)
    async with httpx.AsyncClient(timeout=10) as http:
        admin = Client("", "", "", generate_private_key(), ())  # not bootstrapped yet
        async with running_sharing(settings, http, admin) as s:
            secret_file = settings.data_dir / BOOTSTRAP_FILE
            assert secret_file.stat().st_mode & 0o777 == 0o600
            url = s.url + "/v1/admin/bootstrap"
            wrong = await http.post(
                url, json={"secret": "guess", "public_key": public_jwk(generate_private_key())}
            )
            assert wrong.status_code == 401 and wrong.json()["code"] == "unauthenticated"
            secret = secret_file.read_text().strip()
            bodies = [
                {"secret": secret, "public_key": public_jwk(generate_private_key())}
                for _ in range(4)
            ]
            results = await asyncio.gather(*(http.post(url, json=b) for b in bodies))
            assert sorted(r.status_code for r in results) == [201, 409, 409, 409]
            assert not secret_file.exists()


async def test_partner_client_and_key_lifecycle_is_audited(sharing: Sharing) -> None:
    resp = await sharing.admin_call("POST", "/v1/admin/partners", json={"name": "  Memorial GE  "})
    assert resp.status_code == 201
    partner = resp.json()
    assert partner["name"] == "Memorial GE" and partner["id"].startswith("ptn_")
    assert (
        await sharing.admin_call("GET", f"/v1/admin/partners/{partner['id']}")
    ).json() == partner
    resp = await sharing.admin_call(
        "POST",
        "/v1/admin/clients",
        json={
            "partner_id": partner["id"],
            "name": "case tool",
            "role": "submitter",
            "scopes": ["reports:submit"],
        },
    )
    client = resp.json()
    assert resp.status_code == 201 and client["scopes"] == ["reports:submit"]
    key = generate_private_key()
    resp = await sharing.admin_call(
        "POST", f"/v1/admin/clients/{client['id']}/keys", json={"public_key": public_key_text(key)}
    )
    registered = resp.json()
    assert resp.status_code == 201
    assert registered["fingerprint"] == fingerprint(key) and registered["usable"] is True
    dup = await sharing.admin_call(
        "POST", f"/v1/admin/clients/{client['id']}/keys", json={"public_key": public_jwk(key)}
    )
    assert dup.status_code == 409
    keys = (await sharing.admin_call("GET", f"/v1/admin/clients/{client['id']}/keys")).json()
    assert [k["kid"] for k in keys] == [registered["kid"]]
    listed = (
        await sharing.admin_call("GET", "/v1/admin/clients", params={"partner_id": partner["id"]})
    ).json()
    assert [c["id"] for c in listed] == [client["id"]]
    revoked = await sharing.admin_call("POST", f"/v1/admin/keys/{registered['kid']}/revoke")
    assert revoked.json()["status"] == "revoked" and revoked.json()["usable"] is False
    assert (
        await sharing.admin_call("POST", f"/v1/admin/keys/{registered['kid']}/revoke")
    ).status_code == 200
    disabled = await sharing.admin_call("POST", f"/v1/admin/partners/{partner['id']}/disable")
    assert disabled.json()["status"] == "disabled"
    refused = await sharing.admin_call(
        "POST",
        "/v1/admin/clients",
        json={
            "partner_id": partner["id"],
            "name": "another",
            "role": "reader",
            "scopes": ["reports:read"],
        },
    )
    assert refused.status_code == 409
    actor = sharing.admin.client_id
    assert (await _audit_actions(sharing))[3:] == [
        (actor, "partner.create", partner["id"]),
        (actor, "client.create", client["id"]),
        (actor, "key.register", registered["kid"]),
        (actor, "key.revoke", registered["kid"]),
        (actor, "partner.disable", partner["id"]),
    ]
    verdict = (await sharing.admin_call("GET", "/v1/admin/audit/verify")).json()
    assert verdict["ok"] is True and verdict["checked"] == 8


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("POST", "/v1/admin/partners", {"name": ""}, 422),
        ("POST", "/v1/admin/partners", {"name": "a\nb"}, 422),
        ("POST", "/v1/admin/partners", {"name": "ok", "extra": 1}, 422),
        ("GET", "/v1/admin/partners/ptn_unknown", None, 404),
        ("GET", "/v1/admin/partners/..%2F..%2Fetc", None, 404),
        ("GET", "/v1/admin/partners/a;b", None, 422),
        (
            "POST",
            "/v1/admin/clients",
            {"partner_id": "ptn_nope", "name": "x", "role": "operator", "scopes": ["admin"]},
            404,
        ),
        ("POST", "/v1/admin/clients", {"partner_id": "p", "name": "x", "scopes": ["root"]}, 422),
        ("POST", "/v1/admin/clients", {"partner_id": "p", "name": "x", "scopes": []}, 422),
        ("POST", "/v1/admin/clients/cli_nope/keys", {"public_key": "ed25519:AAAA"}, 422),
        ("POST", "/v1/admin/clients/cli_nope/keys", {"public_key": {"kty": "RSA"}}, 422),
        ("GET", "/v1/admin/keys/' OR '1'='1", None, 422),
        ("GET", "/v1/admin/audit?limit=100000", None, 422),
    ],
)
async def test_bad_admin_input_gets_a_clear_4xx(
    module_sharing: Sharing, method: str, path: str, body: object, status: int
) -> None:
    sharing = module_sharing  # fresh clients of its own: the module's sharing serves
    resp = await sharing.admin_call(method, path, json=body)
    assert resp.status_code == status, resp.text
    assert set(resp.json()) >= {"type", "status", "code", "detail", "fields", "request_id"}


async def test_a_private_jwk_is_never_registered(module_sharing: Sharing) -> None:
    sharing = module_sharing  # fresh clients of its own: the module's sharing serves
    client = await sharing.client("reports:read")
    jwk = {**public_jwk(generate_private_key()), "d": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
    resp = await sharing.admin_call(
        "POST", f"/v1/admin/clients/{client.client_id}/keys", json={"public_key": jwk}
    )
    assert resp.status_code == 422 and resp.json()["fields"][0]["path"] == "public_key"


async def test_the_last_administrator_cannot_lock_everyone_out(sharing: Sharing) -> None:
    me = sharing.admin
    resp = await sharing.admin_call("POST", f"/v1/admin/clients/{me.client_id}/revoke")
    assert resp.status_code == 409
    resp = await sharing.admin_call("POST", f"/v1/admin/keys/{me.kid}/revoke")
    assert resp.status_code == 409
    resp = await sharing.admin_call("POST", f"/v1/admin/partners/{me.partner_id}/disable")
    assert resp.status_code == 409
    # Nothing of the refused changes was written.
    assert (await sharing.admin_call("GET", f"/v1/admin/clients/{me.client_id}")).json()[
        "status"
    ] == "active"
    assert [a[1] for a in await _audit_actions(sharing)] == [
        "partner.create",
        "client.create",
        "key.register",
    ]


async def test_key_rotation_now_or_after_a_grace_period(module_sharing: Sharing) -> None:
    sharing = module_sharing  # fresh clients of its own: the module's sharing serves
    client = await sharing.client("reports:submit")
    new_key = generate_private_key()
    resp = await sharing.admin_call(
        "POST", f"/v1/admin/keys/{client.kid}/rotate", json={"public_key": public_jwk(new_key)}
    )
    assert resp.status_code == 201
    assert resp.json()["old"]["status"] == "revoked" and resp.json()["new"]["usable"] is True
    with pytest.raises(TokenRequestError):
        await client.token(sharing.http)
    client.key = new_key
    assert await client.token(sharing.http)

    newer = generate_private_key()
    resp = await sharing.admin_call(
        "POST",
        f"/v1/admin/keys/{client.kid}/rotate",
        json={"public_key": public_jwk(newer), "old_key_grace_seconds": 3600},
    )
    old = resp.json()["old"]
    assert old["status"] == "active" and old["usable"] is True
    assert await client.token(sharing.http)  # the old key still works during the grace period
    client.key = newer
    assert await client.token(sharing.http)


async def test_an_admin_whose_client_vanished_from_the_registry_is_refused(
    module_sharing: Sharing,
) -> None:
    sharing = module_sharing  # fresh clients of its own: the module's sharing serves
    second = await sharing.client("admin", partner_id=sharing.admin.partner_id)
    headers = await second.headers(sharing.http)
    assert (
        await sharing.http.get(sharing.url + "/v1/admin/partners", headers=headers)
    ).status_code == 200
    await sharing.sql("DELETE FROM client_keys WHERE client_id = :c", c=second.client_id)
    await sharing.sql("DELETE FROM api_clients WHERE id = :c", c=second.client_id)
    resp = await sharing.http.get(sharing.url + "/v1/admin/partners", headers=headers)
    assert resp.status_code == 401
    body = sameness(resp)
    assert (body["code"], body["detail"], body["fields"]) == (
        "unauthenticated",
        "authentication required",
        [],
    )
