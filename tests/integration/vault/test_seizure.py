"""A seized partner's grants and delivery keys go with it, and do not come back when lifted."""

from __future__ import annotations

import asyncio
from pathlib import Path

from libs.common.crypto.encoding import b64u_encode
from libs.common.crypto.hpke_keys import generate_private_key
from libs.sdk import generate_private_key as generate_client_key
from libs.sdk import public_jwk
from tests.integration.vault.conftest import Vault, cli, cli_json
from tests.support.access import Client

FIELDS = ["incident_type", "narrative"]


async def test_a_seized_partners_grants_no_longer_show_reports(vault: Vault) -> None:
    owner = await vault.client("reports:read", "reports:manage")
    seized = await vault.client("reports:read")
    bystander = await vault.client("reports:read")
    red = await vault.submit(owner.partner_id, tlp="RED")
    for reader in (seized, bystander):
        body = {"partner_id": reader.partner_id, "fields": FIELDS}
        resp = await vault.call(owner, "POST", f"/v1/reports/{red}/grants", json=body)
        assert resp.status_code == 201, resp.text
    key = generate_private_key()
    resp = await vault.call(
        seized, "POST", "/v1/partners/me/hpke-keys", json={"public_key": key.public_key.text}
    )
    assert resp.status_code == 201, resp.text
    assert (await vault.call(seized, "GET", f"/v1/reports/{red}")).status_code == 200

    resp = await vault.admin_call(
        "POST", "/v1/admin/seizures", json={"partner_id": seized.partner_id, "reason": "raid"}
    )
    assert resp.status_code == 201, resp.text
    seizure = resp.json()
    assert seizure["counts"]["report_grants"] == 1
    assert seizure["taken"]["delivery_keys"] == [b64u_encode(key.key_id)]

    grants = (await vault.call(owner, "GET", f"/v1/reports/{red}/grants")).json()
    assert [g["partner_id"] for g in grants] == [bystander.partner_id]
    assert (await vault.call(bystander, "GET", f"/v1/reports/{red}")).status_code == 200

    # Lifted, with a newly enrolled key: the partner is back, the report is not.
    lifted = await vault.admin_call("POST", f"/v1/admin/seizures/{seizure['id']}/lift")
    assert lifted.status_code == 200, lifted.text
    new_key = generate_client_key()
    resp = await vault.admin_call(
        "POST",
        f"/v1/admin/clients/{seized.client_id}/keys",
        json={"public_key": public_jwk(new_key)},
    )
    assert resp.status_code == 201, resp.text
    await asyncio.sleep(3.1)  # past the revocation's 2 s grace
    vault.sources.clear()  # the cached token is the seized key's
    renewed = Client(
        seized.sharing_url, seized.client_id, seized.partner_id, new_key, seized.scopes
    )
    assert (await vault.call(renewed, "GET", f"/v1/reports/{red}")).status_code == 404
    listed = (await vault.call(renewed, "GET", "/v1/partners/me/hpke-keys")).json()
    assert listed == []
    sealed = await vault.call(
        renewed, "GET", f"/v1/reports/{red}", params={"sealed_to": b64u_encode(key.key_id)}
    )
    assert sealed.status_code == 404, sealed.text


async def test_the_cli_seizes_only_once_confirmed(vault: Vault, tmp_path: Path) -> None:
    target = await vault.client("reports:read")
    home = tmp_path / "operator"
    args = ("admin", "seize", "--client", target.client_id, "--reason", "phone lost")

    unconfirmed = await cli(vault, vault.admin, home, *args)
    assert unconfirmed.returncode == 64 and "--yes" in unconfirmed.stderr  # usage: no confirmation
    assert await cli_json(vault, vault.admin, home, "admin", "seizures", "list") == []

    seizure = await cli_json(vault, vault.admin, home, *args, "--yes")
    assert seizure["target_id"] == target.client_id and seizure["counts"]["client_keys"] == 1
    shown = await cli_json(vault, vault.admin, home, "admin", "seizures", "show", seizure["id"])
    assert shown["reason"] == "phone lost"
    listed = await cli_json(vault, vault.admin, home, "admin", "seizures", "list")
    assert [s["id"] for s in listed] == [seizure["id"]]
    human = await cli(vault, vault.admin, home, "admin", "seizures", "show", seizure["id"])
    assert "client keys: 1" in human.stdout
