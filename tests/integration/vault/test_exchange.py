"""Spreadsheets in, exchange formats out: an Excel CSV (cp1251, `;`) and an XLSX workbook go
through `lifeline report submit` into a real intake; a reader whose policy withholds fields
exports them through the real sharing service as CSV, STIX 2.1 and MISP with
`lifeline report export`, and the submitter's read log shows every export."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import stix2

from libs.sdk import save_private_key
from services.intake.app import create_app as intake_app
from services.intake.settings import IntakeSettings
from services.sharing.vault.keys.keystore import HpkeKeyStore
from tests.integration.vault.conftest import LIFELINE, Vault, grant, running_vault, vault_settings
from tests.support import spreadsheets
from tests.support.access import Client
from tests.support.natsd import NatsServer, free_port
from tests.support.servers import serve_app

# What B's policy releases; the narrative, locality, authority and the subject are withheld.
RELEASED = ["incident_type", "occurred_at", "place.country", "charges", "tlp"]
WITHHELD_VALUES = ("Задержан", "Бишкек", "Тбилиси", "Пограничн", "Скорякин", "Смирнова")


@dataclass
class Network:
    """Sharing and intake on real ports, and a way to run the CLI as a client."""

    vault: Vault
    intake_url: str
    home: Path

    async def cli(self, client: Client, *args: str) -> subprocess.CompletedProcess[str]:
        """`lifeline ARGS` as `client`, with a profile that names both services."""
        home = self.home / client.client_id
        home.mkdir(parents=True, exist_ok=True)
        key_path = home / "client-key.pem"
        if not key_path.exists():
            save_private_key(client.key, key_path)
        profile = home / "profile.json"
        profile.write_text(
            json.dumps(
                {
                    "sharing_url": self.vault.url,
                    "intake_url": self.intake_url,
                    "client_id": client.client_id,
                    "key_path": str(key_path),
                }
            )
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIFELINE_")}
        env |= {"LIFELINE_PROFILE": str(profile), "XDG_CONFIG_HOME": str(home / "config")}
        return await asyncio.to_thread(
            subprocess.run,
            [LIFELINE, *args],
            capture_output=True,
            text=True,
            timeout=90,
            env=env,
            stdin=subprocess.DEVNULL,
            cwd=home,
        )


@pytest.fixture
async def network(
    nats_server: NatsServer,
    db_url_factory,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> AsyncIterator[Network]:
    key_file = tmp_path / "sharing" / "keys" / "sharing-hpke.json"
    fingerprint = HpkeKeyStore.open(key_file).active().public_view()["fingerprint"]
    settings = vault_settings(tmp_path, nats_server.url, db_url_factory("sharing"))
    async with httpx.AsyncClient(timeout=30) as http, running_vault(settings, http) as vault:
        intake_settings = IntakeSettings(
            data_dir=tmp_path / "intake",
            database_url=db_url_factory("intake"),
            nats_url=nats_server.url,
            port=free_port(),
            sharing_url=vault.url,
            sharing_hpke_fingerprints=fingerprint,
        )
        async with serve_app(intake_app, intake_settings) as (intake, _):
            yield Network(vault, intake, tmp_path / "clients")


async def _stored(vault: Vault, reader: Client, count: int) -> list[str]:
    """The ids of the reports `reader` sees, once there are `count` (the vault is fed by NATS)."""
    ids: list[str] = []
    for _ in range(300):
        page = (await vault.call(reader, "GET", "/v1/reports", params={"limit": 200})).json()
        ids = [r["report_id"] for r in page["reports"]]
        if len(ids) >= count:
            return ids
        await asyncio.sleep(0.05)
    raise AssertionError(f"only {len(ids)} of {count} reports reached the vault")


async def test_spreadsheets_in_exchange_formats_out(network: Network) -> None:
    vault = network.vault
    a = await vault.client("reports:submit", "reports:read", "reports:manage")
    b = await vault.client("reports:read", "reports:manage")
    c = await vault.client("reports:read", "reports:manage")
    await vault.set_policy(b.partner_id, grant(fields=RELEASED, max_tlp="AMBER"))

    # Partner A submits what Excel wrote on a Russian Windows, then a workbook.
    files = network.home / "files"
    files.mkdir(parents=True)
    (files / "отчёты.csv").write_bytes(spreadsheets.excel_csv("csv"))
    (files / "reports.xlsx").write_bytes(spreadsheets.xlsx("xlsx"))
    summaries = {}
    for name in ("отчёты.csv", "reports.xlsx"):
        result = await network.cli(a, "report", "submit", str(files / name), "--json")
        assert result.returncode == 0, result.stderr
        summaries[name] = json.loads(result.stdout)
        assert summaries[name]["accepted"] == 2 and summaries[name]["rejected"] == []
    assert summaries["отчёты.csv"]["read_as"] == {
        "format": "csv",
        "encoding": "cp1251",
        "delimiter": ";",
    }
    assert summaries["reports.xlsx"]["read_as"] == {"format": "xlsx"}
    ids = await _stored(vault, a, 4)
    stored = [(await vault.call(a, "GET", f"/v1/reports/{i}")).json()["report"] for i in ids]
    articles = sorted(c["article"] for r in stored for c in r["charges"])
    assert articles == ["280.3(2)", "280.3(2)", "342(1)", "342(1)", "361-1", "361-1"]

    # B exports what its policy lets it read: the GREEN and AMBER reports, released fields.
    outputs: dict[str, bytes] = {}
    for fmt in ("csv", "stix", "misp"):
        out = network.home / f"export.{fmt}"
        result = await network.cli(b, "report", "export", "--format", fmt, "--out", str(out))
        assert result.returncode == 0, result.stderr
        assert out.stat().st_mode & 0o077 == 0  # report content: owner-only
        outputs[fmt] = out.read_bytes()
    for fmt, body in outputs.items():
        text = body.decode("utf-8-sig")
        for value in WITHHELD_VALUES:
            assert value not in text, (fmt, value)
        assert "token" not in text and "narrative" not in text, fmt

    rows = list(csv.DictReader(io.StringIO(outputs["csv"].decode("utf-8-sig"))))
    assert len(rows) == 4 and {r["report_id"] for r in rows} == set(ids)
    assert set(rows[0]) == {
        "report_id",
        "partner_id",
        "received_at",
        "updated_at",
        "follows",
        "incident_type",
        "occurred_at",
        "country",
        "charges",
        "tlp",
    }
    assert sorted(r["charges"] for r in rows) == [
        "BY:CC:361-1;BY:CC:342(1)",
        "BY:CC:361-1;BY:CC:342(1)",
        "RU:CC:280.3(2)",
        "RU:CC:280.3(2)",
    ]

    bundle = stix2.parse(json.loads(outputs["stix"]), allow_custom=True)
    incidents = [o for o in bundle.objects if o.type == "incident"]
    assert sorted(i.external_references[0].external_id for i in incidents) == sorted(ids)
    markings = {o.id: o.name for o in bundle.objects if o.type == "marking-definition"}
    assert sorted(markings.values()) == ["TLP:AMBER", "TLP:GREEN"]
    assert all(markings[i.object_marking_refs[0]] == f"TLP:{i.x_lifeline_tlp}" for i in incidents)

    events = json.loads(outputs["misp"])["response"]
    assert (
        sorted(e["Event"]["Tag"][0]["name"] for e in events)
        == ["tlp:amber"] * 2 + ["tlp:green"] * 2
    )

    # Every export was a read of every report in it, in A's read log.
    for report_id in ids:
        reads = (await vault.call(a, "GET", f"/v1/reports/{report_id}/reads")).json()
        exports = [
            (r["reader_partner"], r["via"], r["fields"])
            for r in reads
            if r["via"].startswith("export")
        ]
        assert exports == [
            (b.partner_id, "export:csv", RELEASED),
            (b.partner_id, "export:stix", RELEASED),
            (b.partner_id, "export:misp", RELEASED),
        ]

    # C has no policy: its export holds no report, and reads nothing. A write-only key: 403.
    empty = await vault.call(c, "GET", "/v1/exports/reports", params={"format": "csv"})
    assert empty.status_code == 200 and empty.text.lstrip("\ufeff").count("\n") == 1
    submitter = await vault.client("reports:submit", partner_id=a.partner_id)
    refused = await vault.call(submitter, "GET", "/v1/exports/reports", params={"format": "csv"})
    assert refused.status_code == 403
    unknown = await vault.call(b, "GET", "/v1/exports/reports", params={"format": "xml"})
    assert unknown.status_code == 422
