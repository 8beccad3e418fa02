"""A field added to the report catalogue later: one entry, and older reports read it as null.

Reports stored under today's catalogue are read again by a sharing restarted with a grown one
(as a later version of the code would run): the new field is null in them, never a 500, and a
report sealed with the new field carries it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from libs.common.reports import CATALOGUE
from libs.common.reports.model import build_models
from tests.integration.vault.conftest import Vault, grant, running_vault, vault_settings
from tests.support.natsd import NatsServer
from tests.support.reports import GROWN, report_body

SHOWN = ["incident_type", "place.country", "narrative", "later_field"]


async def _view(vault: Vault, client: Any, report_id: str) -> dict[str, Any]:
    resp = await vault.call(client, "GET", f"/v1/reports/{report_id}")
    assert resp.status_code == 200, resp.text
    view: dict[str, Any] = resp.json()
    return view


async def test_a_field_added_later_reads_as_null_in_older_reports(
    nats_server: NatsServer,
    db_url_factory,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    settings = vault_settings(tmp_path, nats_server.url, db_url_factory("sharing"))
    async with httpx.AsyncClient(timeout=15) as http:
        async with running_vault(settings, http) as vault:
            a = await vault.client("reports:read", "reports:manage")
            b = await vault.client("reports:read", "watchlist:manage")
            old = [await vault.submit(a.partner_id) for _ in range(2)]
            before = {r: await _view(vault, a, r) for r in old}
            # Today's code does not know the field: a policy naming it is refused.
            doc = {"partner": b.partner_id, "role": None, "grants": [grant(fields=SHOWN)]}
            refused = await vault.admin_call("PUT", f"/v1/admin/policies/{b.partner_id}", json=doc)
            assert refused.status_code == 422, refused.text
            assert refused.json()["fields"] == [
                {"path": "grants.0.fields.3", "reason": "not a field of the catalogue"}
            ]
            admin = vault.admin

        async with running_vault(settings, http, admin, catalogue=GROWN) as vault:
            rows = await vault.sql("SELECT report_id, catalogue_version FROM vault_reports")
            assert {r.report_id: r.catalogue_version for r in rows} == dict.fromkeys(
                old, CATALOGUE.version
            )
            await vault.set_policy(b.partner_id, grant(fields=SHOWN))

            for report_id in old:
                # The reader was granted the new field: the old report has it as null.
                seen = await _view(vault, b, report_id)
                assert seen["report"] == {
                    "incident_type": "detention",
                    "place": {"country": "KG"},
                    "narrative": before[report_id]["report"]["narrative"],
                    "later_field": None,
                }
                assert "later_field" not in seen["withheld"]
                # The submitter reads every field: the old ones as before, the new one null.
                own = await _view(vault, a, report_id)
                assert own["report"] == {**before[report_id]["report"], "later_field": None}
                assert own["withheld"] == []

            # A report sealed with the grown model carries the new field, end to end.
            report_in = build_models(GROWN)[1]
            body = report_body(later_field="2026/117-K")
            new_id, event = vault.event(a.partner_id, body, model=report_in)
            await vault.publish(event)
            await vault.stored(new_id)
            [row] = await vault.sql(
                "SELECT catalogue_version FROM vault_reports WHERE report_id = :r", r=new_id
            )
            assert row.catalogue_version == GROWN.version == CATALOGUE.version + 1
            assert (await _view(vault, b, new_id))["report"]["later_field"] == "2026/117-K"
            assert (await _view(vault, a, new_id))["report"]["later_field"] == "2026/117-K"

            # A listing mixes both generations without an unreadable report.
            page = (await vault.call(b, "GET", "/v1/reports", params={"limit": 50})).json()
            numbers = {r["report_id"]: r["report"]["later_field"] for r in page["reports"]}
            assert numbers == {old[0]: None, old[1]: None, new_id: "2026/117-K"}
            # The read log and the explanation name the new field like any other.
            reads = (await vault.call(a, "GET", f"/v1/reports/{old[0]}/reads")).json()
            assert "later_field" in reads[-1]["fields"]
            why = await vault.admin_call(
                "GET",
                "/v1/admin/explain",
                params={"partner": b.partner_id, "report_id": old[0], "field": "later_field"},
            )
            assert why.status_code == 200 and "later_field" in why.json()["fields"]
            # A per-report grant may name it too.
            c = await vault.client("reports:read", "reports:manage")
            granted = await vault.call(
                a,
                "POST",
                f"/v1/reports/{old[1]}/grants",
                json={"partner_id": c.partner_id, "fields": ["later_field"]},
            )
            assert granted.status_code == 201, granted.text
            assert (await _view(vault, c, old[1]))["report"] == {"later_field": None}
