"""Reading: only permitted fields, 404 for the invisible, search on visible fields, sync, audit."""

from __future__ import annotations

import json

from libs.common.reports import CATALOGUE
from tests.integration.vault.conftest import Vault, grant
from tests.support.problems import sameness

TYPE_AND_COUNTRY = {
    "fields": ["incident_type", "place.country"],
    "incident_types": ["detention"],
    "countries": ["KG", "KZ"],
}


async def test_a_reader_sees_only_permitted_fields_and_others_see_nothing(vault: Vault) -> None:
    a = await vault.client("reports:read", "reports:manage")
    b = await vault.client("reports:read", "reports:manage")
    c = await vault.client("reports:read", "reports:manage")
    await vault.set_policy(b.partner_id, grant(**TYPE_AND_COUNTRY))
    report_id = await vault.submit(a.partner_id)

    resp = await vault.call(b, "GET", f"/v1/reports/{report_id}")
    assert resp.status_code == 200, resp.text
    view = resp.json()
    assert view["report"] == {"incident_type": "detention", "place": {"country": "KG"}}
    assert view["withheld"] == [
        f for f in CATALOGUE.grantable if f not in {"incident_type", "place.country"}
    ]
    assert view["submitter"] is False and "client_report_id" not in view
    assert view["partner_id"] == a.partner_id
    raw = resp.text
    assert "narrative" not in json.dumps(view["report"]) and "Bishkek" not in raw

    # No policy: exactly the answer for a report that does not exist.
    hidden = await vault.call(c, "GET", f"/v1/reports/{report_id}")
    missing = await vault.call(c, "GET", "/v1/reports/00000000-0000-0000-0000-000000000000")
    assert hidden.status_code == missing.status_code == 404
    assert sameness(hidden) == sameness(missing)

    # A write-only client of the submitter reads nothing back.
    submitter_only = await vault.client("reports:submit", partner_id=a.partner_id)
    for path in ("", "/reads", "/grants"):
        resp = await vault.call(submitter_only, "GET", f"/v1/reports/{report_id}{path}")
        assert resp.status_code == 403, (path, resp.text)


async def test_every_read_is_audited_and_the_submitter_sees_who_read(vault: Vault) -> None:
    a = await vault.client("reports:read", "reports:manage")
    b = await vault.client("reports:read", "reports:manage")
    await vault.set_policy(b.partner_id, grant(**TYPE_AND_COUNTRY))
    report_id = await vault.submit(a.partner_id)
    assert (await vault.call(b, "GET", f"/v1/reports/{report_id}")).status_code == 200
    assert (await vault.call(b, "GET", "/v1/reports")).status_code == 200

    reads = await vault.call(a, "GET", f"/v1/reports/{report_id}/reads")
    assert reads.status_code == 200, reads.text
    log = reads.json()
    assert [(r["reader_partner"], r["reader_client"], r["via"]) for r in log] == [
        (b.partner_id, b.client_id, "get"),
        (b.partner_id, b.client_id, "list"),
    ]
    assert all(r["fields"] == ["incident_type", "place.country"] for r in log)
    assert all(r["role"] == "reader" for r in log)
    # Only the submitter may see the read log.
    assert (await vault.call(b, "GET", f"/v1/reports/{report_id}/reads")).status_code == 404

    audit = (await vault.admin_call("GET", "/v1/admin/audit", params={"limit": 1000})).json()
    reads_audited = [e for e in audit["entries"] if e["action"] == "report.read"]
    assert [(e["actor"], e["target"]) for e in reads_audited] == [(b.client_id, report_id)] * 2
    assert reads_audited[0]["details"]["fields"] == ["incident_type", "place.country"]
    assert reads_audited[0]["details"]["matched"] == [f"policy:{b.partner_id}/*:g1"]
    verify = (await vault.admin_call("GET", "/v1/admin/audit/verify")).json()
    assert verify["ok"] is True


async def test_listing_and_search_only_reveal_what_policy_allows(vault: Vault) -> None:
    a = await vault.client("reports:read", "reports:manage")
    b = await vault.client("reports:read", "reports:manage")
    await vault.set_policy(b.partner_id, grant(**TYPE_AND_COUNTRY))
    kg = await vault.submit(a.partner_id)
    kz_red = await vault.submit(a.partner_id, tlp="RED", place={"country": "KZ"})
    ru = await vault.submit(a.partner_id, place={"country": "RU"})
    kz_interpol = await vault.submit(
        a.partner_id,
        place={"country": "KZ"},
        legal_basis="interpol_red_notice",
        occurred_at="2025-03-01",
    )
    deportation = await vault.submit(a.partner_id, incident_type="deportation")
    own = await vault.submit(b.partner_id, place={"country": "DE"})

    async def ids(**params: object) -> list[str]:
        resp = await vault.call(b, "GET", "/v1/reports", params=params)
        assert resp.status_code == 200, resp.text
        return [r["report_id"] for r in resp.json()["reports"]]

    assert await ids() == [kg, kz_interpol, own]
    assert await ids(country="KZ") == [kz_interpol]
    assert await ids(incident_type="detention", country="KG") == [kg]
    # legal_basis and occurred_at are withheld from B in A's reports: filtering on them must
    # not reveal their values, so only B's own report (fully visible) can match.
    assert await ids(legal_basis="interpol_red_notice") == []
    assert await ids(legal_basis="cis_interstate_search") == [own]
    assert await ids(occurred_to="2025-12-31") == []
    # A grant of legal_basis and occurred_at makes those filters work on A's reports too.
    await vault.set_policy(
        b.partner_id,
        grant(**TYPE_AND_COUNTRY),
        grant(id="g2", fields=["legal_basis", "occurred_at"], countries=["KZ"]),
    )
    assert await ids(legal_basis="interpol_red_notice") == [kz_interpol]
    assert await ids(occurred_from="2025-01-01", occurred_to="2025-12-31") == [kz_interpol]
    assert (
        await vault.call(
            b,
            "GET",
            "/v1/reports",
            params={"occurred_from": "2026-01-02", "occurred_to": "2026-01-01"},
        )
    ).status_code == 422
    # The submitter lists all of its own reports.
    resp = await vault.call(a, "GET", "/v1/reports", params={"limit": 200})
    assert {r["report_id"] for r in resp.json()["reports"]} == {
        kg,
        kz_red,
        ru,
        kz_interpol,
        deportation,
    }


async def test_the_cursor_pages_and_syncs_without_widening_anything(vault: Vault) -> None:
    a = await vault.client("reports:read", "reports:manage")
    b = await vault.client("reports:read", "reports:manage")
    await vault.set_policy(b.partner_id, grant(**TYPE_AND_COUNTRY))
    visible = [await vault.submit(a.partner_id) for _ in range(3)]
    await vault.submit(a.partner_id, place={"country": "RU"})

    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = (await vault.call(b, "GET", "/v1/reports", params=params)).json()
        seen += [r["report_id"] for r in page["reports"]]
        cursor, pages = page["next_cursor"], pages + 1
        if not page["has_more"] or pages > 10:
            break
    assert seen == visible and pages == 4  # three full pages, then an empty one

    later = await vault.submit(a.partner_id)
    page = (await vault.call(b, "GET", "/v1/reports", params={"cursor": cursor})).json()
    assert later in [r["report_id"] for r in page["reports"]]
    # A cursor is only a position: a forged one from the start shows nothing more.
    from libs.common.paging import encode_cursor

    start = encode_cursor("reports", (0, ""))
    forged = (await vault.call(b, "GET", "/v1/reports", params={"cursor": start})).json()
    assert {r["report_id"] for r in forged["reports"]} == {*visible, later}
    for bad in ("x", "djE6LTE6eA", "A" * 200):
        resp = await vault.call(b, "GET", "/v1/reports", params={"cursor": bad})
        assert resp.status_code == 422, bad
        assert resp.json()["code"] == "invalid_cursor"


async def test_roles_and_red_reports_with_per_report_grants(vault: Vault) -> None:
    a = await vault.client("reports:read", "reports:manage")
    b_analyst = await vault.client("reports:read", "reports:manage")
    b_lawyer = await vault.client(
        "reports:read", "watchlist:manage", partner_id=b_analyst.partner_id
    )
    b = b_analyst.partner_id
    await vault.set_policy(b, grant(**TYPE_AND_COUNTRY))
    await vault.set_policy(
        b, grant(id="lawyers", fields=["narrative", "contact_instructions"]), role="lawyer"
    )
    amber = await vault.submit(a.partner_id)
    red = await vault.submit(a.partner_id, tlp="RED")

    lawyer_view = (await vault.call(b_lawyer, "GET", f"/v1/reports/{amber}")).json()
    analyst_view = (await vault.call(b_analyst, "GET", f"/v1/reports/{amber}")).json()
    assert set(lawyer_view["report"]) == {
        "incident_type",
        "place",
        "narrative",
        "contact_instructions",
    }
    assert set(analyst_view["report"]) == {"incident_type", "place"}

    # RED stays with its submitter whatever the standing policy says...
    assert (await vault.call(b_lawyer, "GET", f"/v1/reports/{red}")).status_code == 404
    # ...until the submitter grants that one report.
    resp = await vault.call(
        a,
        "POST",
        f"/v1/reports/{red}/grants",
        json={"partner_id": b, "fields": ["narrative"], "role": "lawyer"},
    )
    assert resp.status_code == 201, resp.text
    assert resp.json()["fields"] == ["narrative"]
    granted = (await vault.call(b_lawyer, "GET", f"/v1/reports/{red}")).json()
    assert granted["report"] == {
        "narrative": "Detained at passport control on arrival; phone taken."
    }
    assert (await vault.call(b_analyst, "GET", f"/v1/reports/{red}")).status_code == 404
    # Only the submitter (or an administrator) grants; a reader of the report gets 403, others 404.
    c = await vault.client("reports:read", "reports:manage")
    body = {"partner_id": c.partner_id, "fields": ["narrative"]}
    assert (
        await vault.call(b_lawyer, "POST", f"/v1/reports/{red}/grants", json=body)
    ).status_code == 403
    assert (await vault.call(c, "POST", f"/v1/reports/{red}/grants", json=body)).status_code == 404
    assert (
        await vault.admin_call("POST", f"/v1/reports/{red}/grants", json=body)
    ).status_code == 201
    assert (await vault.call(c, "GET", f"/v1/reports/{red}")).status_code == 200
    # Bad grants are clear 4xx answers.
    for bad in (
        {"partner_id": b, "fields": []},
        {"partner_id": b, "fields": ["*"]},
        {"partner_id": b, "fields": ["narrative"], "extra": 1},
        {"partner_id": "ptn_nobody", "fields": ["narrative"]},
        {"partner_id": a.partner_id, "fields": ["narrative"]},
    ):
        resp = await vault.call(a, "POST", f"/v1/reports/{red}/grants", json=bad)
        assert resp.status_code == 422, (bad, resp.text)
        assert resp.json()["code"] == "invalid_input" and resp.json()["fields"], resp.text
    grants = (await vault.call(a, "GET", f"/v1/reports/{red}/grants")).json()
    assert [g["partner_id"] for g in grants] == [b, c.partner_id]
