"""A follow-up in the vault: stored as a report of its own, linked to its original, and the read
views show the chain; a relabelled link is never stored."""

from __future__ import annotations

from tests.integration.vault.conftest import Vault
from tests.support.reports import report_body


def _follow_up(original: str) -> dict[str, object]:
    body = report_body(incident_type="deportation", status="deported", follows=original)
    del body["subject"]  # about the original's person: no tokens again
    return body


async def test_a_follow_up_is_its_own_report_and_the_reads_show_the_chain(vault: Vault) -> None:
    a = await vault.client("reports:read", "reports:manage")
    original, event = vault.event(a.partner_id)
    await vault.publish(event)
    await vault.stored(original)
    first, event = vault.event(a.partner_id, _follow_up(original))
    await vault.publish(event)
    await vault.stored(first)
    second, event = vault.event(a.partner_id, {**_follow_up(first), "status": "released"})
    await vault.publish(event)
    await vault.stored(second)

    view = (await vault.call(a, "GET", f"/v1/reports/{original}")).json()
    assert (view["follows"], view["follow_ups"]) == (None, [first])
    view = (await vault.call(a, "GET", f"/v1/reports/{first}")).json()
    assert (view["follows"], view["follow_ups"]) == (original, [second])
    assert view["report"]["status"] == "deported" and view["report"]["subject"] is None
    view = (await vault.call(a, "GET", f"/v1/reports/{second}")).json()
    assert (view["follows"], view["report"]["status"]) == (first, "released")
    # An erased follow-up leaves the chain.
    assert (await vault.call(a, "DELETE", f"/v1/reports/{second}")).status_code == 200
    view = (await vault.call(a, "GET", f"/v1/reports/{first}")).json()
    assert view["follow_ups"] == []


async def test_a_follow_up_whose_clear_link_disagrees_with_the_sealed_one_is_refused(
    vault: Vault,
) -> None:
    a = await vault.client("reports:read")
    original, event = vault.event(a.partner_id)
    await vault.publish(event)
    await vault.stored(original)
    relabelled, event = vault.event(a.partner_id, _follow_up(original), follows="someone-else")
    await vault.publish(event)
    reason = await vault.dead_letter(event.id)
    assert reason.endswith("routing metadata disagrees with the sealed report")
    rows = await vault.sql("SELECT report_id FROM vault_reports WHERE report_id = :r", r=relabelled)
    assert rows == []
