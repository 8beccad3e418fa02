"""Policies through the admin API and `lifeline admin policy`: set, show, diff, explain, audited."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.integration.vault.conftest import Vault, cli, cli_json, grant


def _doc(partner_id: str, *grants: dict[str, object], role: str | None = None) -> dict[str, object]:
    return {"partner": partner_id, "role": role, "grants": list(grants)}


async def test_policies_are_set_versioned_diffed_and_audited(vault: Vault) -> None:
    b = await vault.client("reports:read")
    path = f"/v1/admin/policies/{b.partner_id}"
    assert (await vault.admin_call("GET", path)).json() == {"partner": b.partner_id, "policies": []}

    first = await vault.admin_call(
        "PUT", path, json=_doc(b.partner_id, grant(countries=["KZ", "KG"]))
    )
    assert first.status_code == 200, first.text
    assert first.json()["version"] == 1
    assert first.json()["policy"]["grants"][0]["countries"] == ["KG", "KZ"]  # canonical
    wider = _doc(
        b.partner_id, grant(countries=["KG", "KZ", "UZ"], fields=["incident_type", "narrative"])
    )
    diff = (await vault.admin_call("POST", f"{path}/diff", json=wider)).json()
    assert diff["changes"] == [
        "grant g1: fields added: narrative",
        "grant g1: fields removed: place.country",
        "grant g1: countries added: UZ",
    ]
    assert (await vault.admin_call("GET", path)).json()["policies"][0][
        "version"
    ] == 1  # diff stores nothing
    second = (await vault.admin_call("PUT", path, json=wider)).json()
    assert second["version"] == 2 and second["changes"] == diff["changes"]
    lawyer = await vault.admin_call("PUT", path, json=_doc(b.partner_id, grant(), role="lawyer"))
    assert lawyer.json()["version"] == 1
    shown = (await vault.admin_call("GET", path)).json()["policies"]
    assert [p["document"]["role"] for p in shown] == [None, "lawyer"]
    only = (await vault.admin_call("GET", path, params={"role": "*"})).json()["policies"]
    assert [p["version"] for p in only] == [2]

    audit = (await vault.admin_call("GET", "/v1/admin/audit", params={"limit": 1000})).json()
    sets = [e for e in audit["entries"] if e["action"] == "policy.set"]
    assert [(e["target"], e["details"]["version"]) for e in sets] == [
        (f"{b.partner_id}/*", 1),
        (f"{b.partner_id}/*", 2),
        (f"{b.partner_id}/lawyer", 1),
    ]
    assert (
        sets[1]["details"]["changes"] == diff["changes"]
        and sets[1]["actor"] == vault.admin.client_id
    )


async def test_bad_policies_are_refused_with_every_bad_path(vault: Vault) -> None:
    b = await vault.client("reports:read")
    path = f"/v1/admin/policies/{b.partner_id}"
    bad = _doc(b.partner_id, grant(max_tlp="RED", fields=["*"], countries=["XX"]))
    resp = await vault.admin_call("PUT", path, json=bad)
    assert resp.status_code == 422
    paths = {f["path"] for f in resp.json()["fields"]}
    assert {"grants.0.max_tlp", "grants.0.fields.0", "grants.0.countries.0"} <= paths
    other = await vault.admin_call("PUT", path, json=_doc("ptn_other", grant()))
    assert other.status_code == 422 and other.json()["fields"][0]["path"] == "partner"
    missing = await vault.admin_call(
        "PUT", "/v1/admin/policies/ptn_nobody", json=_doc("ptn_nobody", grant())
    )
    assert missing.status_code == 404
    assert (
        await vault.admin_call(
            "PUT", path, content=b"{nope", headers={"content-type": "application/json"}
        )
    ).status_code == 400
    # Policies are an administrator's business only.
    assert (await vault.call(b, "GET", path)).status_code == 403
    assert (await vault.call(b, "PUT", path, json=_doc(b.partner_id, grant()))).status_code == 403


async def test_explain_says_why(vault: Vault) -> None:
    a = await vault.client("reports:read")
    b = await vault.client("reports:read")
    await vault.set_policy(b.partner_id, grant(countries=["KZ"]))
    report_id = await vault.submit(a.partner_id)
    params = {"partner": b.partner_id, "report_id": report_id, "field": "narrative"}
    data = (await vault.admin_call("GET", "/v1/admin/explain", params=params)).json()
    assert data["visible"] is False and data["fields"] == []
    assert data["lines"][0] == f"partner {b.partner_id} cannot see narrative of report {report_id}"
    assert (
        "country KG not in {KZ}" in data["lines"][1]
        and "field narrative not granted" in data["lines"][1]
    )
    assert data["lines"][-1].endswith("(404)")
    await vault.set_policy(b.partner_id, grant(countries=["KG"]))
    data = (
        await vault.admin_call(
            "GET", "/v1/admin/explain", params=params | {"field": "place.country"}
        )
    ).json()
    assert data["visible"] is True and data["lines"][1].endswith("allows it")
    assert (
        await vault.admin_call("GET", "/v1/admin/explain", params=params | {"field": "name"})
    ).status_code == 422
    assert (await vault.call(b, "GET", "/v1/admin/explain", params=params)).status_code == 403


async def test_the_policy_cli(vault: Vault, tmp_path: Path) -> None:
    a = await vault.client("reports:read")
    b = await vault.client("reports:read")
    home = tmp_path / "admin"
    doc = _doc(b.partner_id, grant(countries=["KG"]))
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(doc))
    stored = await cli_json(
        vault, vault.admin, home, "admin", "policy", "set", str(tmp_path / "policy.yaml")
    )
    assert stored["version"] == 1

    doc["grants"][0]["fields"].append("narrative")  # type: ignore[index]
    (tmp_path / "policy.json").write_text(json.dumps(doc))
    diff = await cli(
        vault, vault.admin, home, "admin", "policy", "diff", str(tmp_path / "policy.json")
    )
    assert diff.returncode == 0 and "grant g1: fields added: narrative" in diff.stdout
    shown = await cli(vault, vault.admin, home, "admin", "policy", "show", b.partner_id)
    assert shown.returncode == 0 and '"countries": [\n        "KG"' in shown.stdout

    report_id = await vault.submit(a.partner_id)
    why = await cli(
        vault, vault.admin, home, "admin", "policy", "explain",
        "--partner", b.partner_id, "--report", report_id, "--field", "place.country",
    )  # fmt: skip
    assert why.returncode == 0 and why.stdout.startswith(f"partner {b.partner_id} can see")

    (tmp_path / "bad.json").write_text(json.dumps(_doc(b.partner_id, grant(max_tlp="RED"))))
    bad = await cli(vault, vault.admin, home, "admin", "policy", "set", str(tmp_path / "bad.json"))
    assert bad.returncode == 65  # input rejected (lifeline/cli/exits.py)
    assert (
        bad.stderr.startswith("lifeline: error: HTTP 422 invalid_input") and "max_tlp" in bad.stderr
    )
    assert len(bad.stderr.strip().splitlines()) == 1
