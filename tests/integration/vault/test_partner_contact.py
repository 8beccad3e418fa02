"""The partner's contact line for lawyers: set by its administrator, shown with its reports."""

from __future__ import annotations

import pytest

from tests.integration.vault.conftest import Vault, grant

LINE = "Duty lawyer: +995 555 0100 (Signal), day and night"


async def test_the_contact_line_is_set_shown_and_travels_with_a_visible_report(
    vault: Vault,
) -> None:
    a = await vault.client("reports:read", "reports:manage")
    b = await vault.client("reports:read", "reports:manage")
    c = await vault.client("reports:read", "reports:manage")
    await vault.set_policy(b.partner_id, grant(fields=["incident_type"]))
    report_id = await vault.submit(a.partner_id)
    before = await vault.call(b, "GET", f"/v1/reports/{report_id}")
    assert before.json()["partner_contact"] is None

    path = f"/v1/admin/partners/{a.partner_id}/contact"
    resp = await vault.admin_call("PUT", path, json={"lawyer_contact": f"  {LINE} "})
    assert resp.status_code == 200 and resp.json()["lawyer_contact"] == LINE, resp.text
    shown = await vault.admin_call("GET", f"/v1/admin/partners/{a.partner_id}")
    assert shown.json()["lawyer_contact"] == LINE

    view = await vault.call(b, "GET", f"/v1/reports/{report_id}")
    assert view.status_code == 200 and view.json()["partner_contact"] == LINE
    # A reader who cannot see the report learns nothing, the contact line included.
    hidden = await vault.call(c, "GET", f"/v1/reports/{report_id}")
    assert hidden.status_code == 404 and LINE not in hidden.text

    # Neither the audit log nor anything but the partner keeps the line itself.
    audit = (await vault.admin_call("GET", "/v1/admin/audit", params={"limit": 1000})).json()
    assert "partner.contact" in {e["action"] for e in audit["entries"]}
    assert "+995" not in str(audit)

    cleared = await vault.admin_call("PUT", path, json={"lawyer_contact": None})
    assert cleared.json()["lawyer_contact"] is None


@pytest.mark.parametrize(
    "line",
    [
        "call\nme",
        "tab\there",
        "escape \x1b[31mred",
        "bell \x07",
        "del \x7f",
        "right-to-left \u202e override",
        "isolate \u2066x\u2069",
        "line \u2028 separator",
        "x" * 201,
    ],
)
async def test_a_contact_line_that_is_not_plain_text_is_refused(vault: Vault, line: str) -> None:
    a = await vault.client("reports:read")
    path = f"/v1/admin/partners/{a.partner_id}/contact"
    resp = await vault.admin_call("PUT", path, json={"lawyer_contact": line})
    assert resp.status_code == 422, resp.text
    assert resp.json()["fields"][0]["path"].endswith("lawyer_contact")
    shown = await vault.admin_call("GET", f"/v1/admin/partners/{a.partner_id}")
    assert shown.json()["lawyer_contact"] is None


async def test_a_partner_admin_sets_its_own_partners_line_only(vault: Vault) -> None:
    manager = await vault.client("clients:manage")
    other = await vault.client("reports:read")
    own = await vault.call(
        manager,
        "PUT",
        f"/v1/admin/partners/{manager.partner_id}/contact",
        json={"lawyer_contact": LINE},
    )
    assert own.status_code == 200 and own.json()["lawyer_contact"] == LINE, own.text
    theirs = await vault.call(
        manager,
        "PUT",
        f"/v1/admin/partners/{other.partner_id}/contact",
        json={"lawyer_contact": LINE},
    )
    assert theirs.status_code == 404, theirs.text
    shown = await vault.admin_call("GET", f"/v1/admin/partners/{other.partner_id}")
    assert shown.json()["lawyer_contact"] is None
