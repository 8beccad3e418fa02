"""The journey: A submits through intake; B reads what policy allows; A sees who read; A erases."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from services.intake.app import create_app as intake_app
from services.intake.settings import IntakeSettings
from services.sharing.vault.keys.keystore import HpkeKeyStore
from tests.integration.vault.conftest import grant, running_vault, vault_settings
from tests.support.natsd import NatsServer, free_port
from tests.support.reports import report_body
from tests.support.servers import serve_app


async def test_submit_read_by_policy_read_log_and_erasure(
    nats_server: NatsServer,
    db_url_factory,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    key_file = tmp_path / "sharing" / "keys" / "sharing-hpke.json"
    fingerprint = HpkeKeyStore.open(key_file).active().public_view()["fingerprint"]
    settings = vault_settings(tmp_path, nats_server.url, db_url_factory("sharing"))
    async with httpx.AsyncClient(timeout=15) as http, running_vault(settings, http) as vault:
        intake_settings = IntakeSettings(
            data_dir=tmp_path / "intake",
            database_url=db_url_factory("intake"),
            nats_url=nats_server.url,
            port=free_port(),
            sharing_url=vault.url,
            sharing_hpke_fingerprints=fingerprint,
        )
        async with serve_app(intake_app, intake_settings) as (intake, _):
            a = await vault.client("reports:submit", "reports:read", "reports:manage")
            b = await vault.client("reports:read", "reports:manage")
            await vault.set_policy(
                b.partner_id,
                grant(fields=["incident_type", "place.country"], countries=["KG"]),
            )

            # Partner A submits through the front door; the vault stores it; the receipt says so.
            body = report_body()
            headers = await vault.headers(a)
            resp = await http.post(f"{intake}/v1/reports", json=body, headers=headers)
            assert resp.status_code == 202, resp.text
            report_id = resp.json()["report_id"]
            receipt: dict[str, str] = {}
            for _ in range(300):
                receipt = (
                    await http.get(f"{intake}/v1/reports/{report_id}/receipt", headers=headers)
                ).json()
                if receipt["status"] == "stored":
                    break
                await asyncio.sleep(0.05)
            assert receipt["status"] == "stored", receipt

            # Partner B lists and reads it: incident type and country, nothing else.
            page = (await vault.call(b, "GET", "/v1/reports")).json()
            assert [r["report_id"] for r in page["reports"]] == [report_id]
            listed = page["reports"][0]
            view = (await vault.call(b, "GET", f"/v1/reports/{report_id}")).json()
            for seen in (listed, view):
                assert seen["report"] == {"incident_type": "detention", "place": {"country": "KG"}}
                assert "narrative" in seen["withheld"] and "subject" in seen["withheld"]
            assert body["narrative"] not in str(page) + str(view)

            # A's read log shows both of B's reads, with the fields B saw.
            reads = (await vault.call(a, "GET", f"/v1/reports/{report_id}/reads")).json()
            assert [(r["reader_partner"], r["via"], r["fields"]) for r in reads] == [
                (b.partner_id, "list", ["incident_type", "place.country"]),
                (b.partner_id, "get", ["incident_type", "place.country"]),
            ]
            full = (await vault.call(a, "GET", f"/v1/reports/{report_id}")).json()
            assert full["report"]["narrative"] == body["narrative"]

            # A erases it; B now gets 410, and the listing says it was erased.
            erased = await vault.call(a, "DELETE", f"/v1/reports/{report_id}")
            assert erased.status_code == 200, erased.text
            gone = await vault.call(b, "GET", f"/v1/reports/{report_id}")
            assert gone.status_code == 410 and gone.json()["code"] == "gone"
            after = (await vault.call(b, "GET", "/v1/reports")).json()["reports"]
            assert [("erased_at" in r, "report" in r) for r in after] == [(True, False)]
