"""Seizure response on real services: one call cuts a client or a partner off everywhere."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from libs.common.auth.scopes import WHOAMI_PATH
from libs.sdk import TokenRequestError, generate_private_key, public_jwk
from tests.integration.auth.conftest import Network, Sharing
from tests.support.access import Client

SERVICES = ("sharing", "intake", "alerts")
EVERYWHERE = ("reports:submit", "alerts:read")  # a token for all three services


async def _statuses(http: httpx.AsyncClient, urls: dict[str, str], token: str) -> dict[str, int]:
    headers = {"Authorization": f"Bearer {token}"}
    answers = await asyncio.gather(
        *(http.get(urls[n] + WHOAMI_PATH, headers=headers) for n in SERVICES)
    )
    return {name: resp.status_code for name, resp in zip(SERVICES, answers, strict=True)}


async def _refused_everywhere(network: Network, token: str, within: float = 1.0) -> None:
    started = time.monotonic()
    while time.monotonic() - started < within:
        if set((await _statuses(network.sharing.http, network.urls, token)).values()) == {401}:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(await _statuses(network.sharing.http, network.urls, token))


async def _seize(sharing: Sharing, **target: str) -> dict:  # type: ignore[type-arg]
    body = {"reason": "field laptop taken at the border", **target}
    resp = await sharing.admin_call("POST", "/v1/admin/seizures", json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()  # type: ignore[no-any-return]


async def _cannot_get_tokens(client: Client, http: httpx.AsyncClient) -> None:
    with pytest.raises(TokenRequestError) as refused:
        await client.token(http)
    assert refused.value.oauth_error == "invalid_client"


async def test_a_seized_client_is_refused_everywhere_and_its_keys_get_no_tokens(
    network: Network,
) -> None:
    sharing, http = network.sharing, network.sharing.http
    seized = await sharing.client(*EVERYWHERE)
    sibling = await sharing.client(*EVERYWHERE, partner_id=seized.partner_id)
    token, other = await seized.token(http), await sibling.token(http)
    assert await _statuses(http, network.urls, token) == dict.fromkeys(SERVICES, 200)

    seizure = await _seize(sharing, client_id=seized.client_id)

    assert seizure["target_kind"] == "client" and seizure["status"] == "active"
    assert seizure["counts"]["client_keys"] == 1
    assert seizure["taken"]["client_keys"] == [seized.kid]
    await _refused_everywhere(network, token)
    await _cannot_get_tokens(seized, http)
    # No key can be enrolled while the seizure holds.
    new_key = generate_private_key()
    enrol = await sharing.admin_call(
        "POST",
        f"/v1/admin/clients/{seized.client_id}/keys",
        json={"public_key": public_jwk(new_key)},
    )
    assert enrol.status_code == 409, enrol.text
    # The rest of the partner is untouched by a client's seizure.
    assert await _statuses(http, network.urls, other) == dict.fromkeys(SERVICES, 200)
    # A second seizure of the same client is refused; the first is listed and audited.
    again = await sharing.admin_call(
        "POST", "/v1/admin/seizures", json={"client_id": seized.client_id, "reason": "x"}
    )
    assert again.status_code == 409, again.text
    listed = await sharing.admin_call("GET", "/v1/admin/seizures?status=active")
    assert seizure["id"] in [s["id"] for s in listed.json()]
    audit = (await sharing.admin_call("GET", "/v1/admin/audit?limit=1000")).json()["entries"]
    entry = next(e for e in audit if e["action"] == "seizure.create")
    assert entry["target"] == seizure["id"]
    assert (
        entry["details"]["client_keys"] == 1 and entry["details"]["target_id"] == seized.client_id
    )
    assert "laptop" not in str(entry)  # the reason stays out of the chained log


async def test_a_seized_partner_loses_every_client_and_lifting_restores_no_key(
    network: Network,
) -> None:
    sharing, http = network.sharing, network.sharing.http
    first = await sharing.client(*EVERYWHERE)
    second = await sharing.client("reports:submit", partner_id=first.partner_id)
    tokens = [await first.token(http), await second.token(http)]

    seizure = await _seize(sharing, partner_id=first.partner_id)

    assert seizure["counts"]["clients"] == 2 and seizure["counts"]["client_keys"] == 2
    await _refused_everywhere(network, tokens[0])
    assert (
        await http.get(
            network.urls["intake"] + WHOAMI_PATH, headers={"Authorization": f"Bearer {tokens[1]}"}
        )
    ).status_code == 401
    for client in (first, second):
        await _cannot_get_tokens(client, http)
    partner = await sharing.admin_call("GET", f"/v1/admin/partners/{first.partner_id}")
    assert partner.json()["status"] == "seized"

    lifted = await sharing.admin_call("POST", f"/v1/admin/seizures/{seizure['id']}/lift")
    assert lifted.status_code == 200, lifted.text
    assert lifted.json()["status"] == "lifted"
    partner = await sharing.admin_call("GET", f"/v1/admin/partners/{first.partner_id}")
    assert partner.json()["status"] == "active"
    # The old keys stay revoked: the partner enrols new ones.
    await _cannot_get_tokens(first, http)
    new_key = generate_private_key()
    enrol = await sharing.admin_call(
        "POST",
        f"/v1/admin/clients/{first.client_id}/keys",
        json={"public_key": public_jwk(new_key)},
    )
    assert enrol.status_code == 201, enrol.text
    renewed = Client(first.sharing_url, first.client_id, first.partner_id, new_key, EVERYWHERE)
    # Revocations cover tokens issued up to 2 s after them (docs/auth.md): wait that out.
    await asyncio.sleep(3.1)
    fresh = await renewed.token(http)
    assert await _statuses(http, network.urls, fresh) == dict.fromkeys(SERVICES, 200)
    again = await sharing.admin_call("POST", f"/v1/admin/seizures/{seizure['id']}/lift")
    assert again.status_code == 409, again.text


async def test_the_operators_own_organisation_cannot_be_seized_whole(sharing: Sharing) -> None:
    resp = await sharing.admin_call(
        "POST",
        "/v1/admin/seizures",
        json={"partner_id": sharing.admin.partner_id, "reason": "test"},
    )
    assert resp.status_code == 409, resp.text
    assert (await sharing.admin_call("GET", "/v1/admin/seizures")).json() == []


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "no target"},
        {"client_id": "cli_x", "partner_id": "ptn_x", "reason": "two targets"},
        {"client_id": "cli_x"},
        {"client_id": "cli_x", "reason": ""},
    ],
)
async def test_a_seizure_names_exactly_one_target_and_a_reason(
    sharing: Sharing, body: dict[str, str]
) -> None:
    resp = await sharing.admin_call("POST", "/v1/admin/seizures", json=body)
    assert resp.status_code == 422, resp.text
    assert resp.json()["code"] in {"invalid_input", "validation_error"}


async def test_only_an_operator_seizes(sharing: Sharing) -> None:
    manager = await sharing.client("clients:manage", role="partner_admin")
    target = await sharing.client("reports:submit", partner_id=manager.partner_id)
    resp = await sharing.http.post(
        sharing.url + "/v1/admin/seizures",
        json={"client_id": target.client_id, "reason": "mine"},
        headers=await manager.headers(sharing.http),
    )
    assert resp.status_code == 403, resp.text
