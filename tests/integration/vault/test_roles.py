"""Registered roles on the vault's paths: a write-only key stays write-only, a lawyer reads as one."""

from __future__ import annotations

from tests.integration.vault.conftest import Vault, grant


async def test_a_submitter_key_can_neither_grant_nor_erase_its_partners_red_report(
    vault: Vault,
) -> None:
    # A seized field laptop holds only this key: it must not send a RED report elsewhere, nor
    # destroy one.
    manager = await vault.client("reports:read", "reports:manage")
    submitter = await vault.client("reports:submit", partner_id=manager.partner_id)
    other = await vault.client("reports:read")
    red = await vault.submit(manager.partner_id, tlp="RED")
    body = {"partner_id": other.partner_id, "fields": ["narrative"]}

    granted = await vault.call(submitter, "POST", f"/v1/reports/{red}/grants", json=body)
    assert granted.status_code == 403, granted.text
    assert granted.json()["code"] == "forbidden"
    erased = await vault.call(submitter, "DELETE", f"/v1/reports/{red}")
    assert erased.status_code == 403, erased.text
    # Nothing left: the other partner still cannot see it, and it is not erased.
    assert (await vault.call(other, "GET", f"/v1/reports/{red}")).status_code == 404
    assert (await vault.call(manager, "GET", f"/v1/reports/{red}")).status_code == 200

    # The partner's reader with `reports:manage` may do both.
    resp = await vault.call(manager, "POST", f"/v1/reports/{red}/grants", json=body)
    assert resp.status_code == 201, resp.text
    assert (await vault.call(other, "GET", f"/v1/reports/{red}")).status_code == 200
    assert (await vault.call(manager, "DELETE", f"/v1/reports/{red}")).status_code == 200


async def test_a_lawyer_reads_under_the_lawyer_policy_with_a_read_only_token(
    vault: Vault,
) -> None:
    submitter = await vault.client("reports:read")
    lawyer = await vault.client("reports:read", "watchlist:manage", "alerts:read", "alerts:ack")
    fields = ["incident_type", "place.country", "narrative"]
    await vault.set_policy(lawyer.partner_id, grant(fields=fields), role="lawyer")
    report_id = await vault.submit(submitter.partner_id)

    # The lawyer's app asks for `reports:read` alone, as a token for reading the report behind
    # an alert does; its role still comes from the registry, not from the scopes it asked for.
    headers = await vault.headers(lawyer, ("reports:read",))
    resp = await vault.http.get(f"{vault.url}/v1/reports/{report_id}", headers=headers)
    assert resp.status_code == 200, resp.text
    assert set(resp.json()["report"]) == {"incident_type", "place", "narrative"}
    reads = await vault.call(submitter, "GET", f"/v1/reports/{report_id}/reads")
    assert [r["role"] for r in reads.json()] == ["lawyer"]


async def test_grants_name_only_roles_that_read(vault: Vault) -> None:
    manager = await vault.client("reports:read", "reports:manage")
    other = await vault.client("reports:read")
    report_id = await vault.submit(manager.partner_id)
    for role in ("analyst", "submitter", "operator"):
        body = {"partner_id": other.partner_id, "fields": ["narrative"], "role": role}
        resp = await vault.call(manager, "POST", f"/v1/reports/{report_id}/grants", json=body)
        assert resp.status_code == 422, (role, resp.text)
        assert resp.json()["fields"][0]["path"].endswith("role")
