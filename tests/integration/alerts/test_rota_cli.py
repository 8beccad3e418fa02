"""`lifeline alerts rota` against real sharing (tokens) and alerts: the administrator sets the
rota, a lawyer of the organisation sees who is on duty and takes the calendar."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import icalendar

from libs.sdk import save_private_key
from lifeline.cli.profile import Profile, save_profile
from services.alerts.app import create_app as alerts_app
from services.alerts.settings import AlertsSettings
from tests.integration.alerts.conftest import FAST
from tests.integration.alerts.test_cli import lifeline
from tests.integration.auth.conftest import running_sharing, sharing_settings
from tests.support.access import Client
from tests.support.natsd import NatsServer, free_port
from tests.support.servers import serve_app

ROTA = {
    "time_zone": "Asia/Almaty",
    "handover_weekday": "monday",
    "handover_time": "00:30",
    "starts_on": "2026-03-02",
    "members": [
        {"name": "Anna", "contacts": [{"channel": "email", "address": "anna@bar.example"}]},
        {"name": "Boris", "contacts": [{"channel": "email", "address": "boris@bar.example"}]},
    ],
    "overrides": [
        {"member": 0, "starts_at": "2026-03-20T00:00:00Z", "ends_at": "2026-03-21T00:00:00Z"}
    ],
}


def _profile(tmp_path: Path, name: str, client: Client, sharing_url: str, alerts_url: str) -> Path:
    key_path = tmp_path / f"{name}.pem"
    save_private_key(client.key, key_path, None)
    path = tmp_path / f"{name}.json"
    save_profile(
        path,
        Profile(
            sharing_url=sharing_url,
            alerts_url=alerts_url,
            client_id=client.client_id,
            key_path=str(key_path),
        ),
    )
    return path


async def test_rota_cli(
    nats_server: NatsServer, db_url_factory: Callable[[str], str], tmp_path: Path
) -> None:
    s_set = sharing_settings(tmp_path, nats_server.url, db_url_factory("sharing"))
    async with httpx.AsyncClient(timeout=10) as http, running_sharing(s_set, http) as sharing:
        a_set = AlertsSettings(
            data_dir=tmp_path / "alerts",
            database_url=db_url_factory("alerts"),
            nats_url=nats_server.url,
            port=free_port(),
            sharing_url=sharing.url,
            **FAST,
        )
        async with serve_app(alerts_app, a_set) as (alerts_url, _):
            admin = await sharing.client("escalation:manage")
            lawyer = await sharing.client(
                "watchlist:manage", "alerts:read", "alerts:ack", partner_id=admin.partner_id
            )
            boss = _profile(tmp_path, "admin", admin, sharing.url, alerts_url)
            mine = _profile(tmp_path, "lawyer", lawyer, sharing.url, alerts_url)
            rota_file = tmp_path / "rota.json"
            rota_file.write_text(json.dumps(ROTA))

            code, _, err = await lifeline(mine, "alerts", "rota", "show")
            assert code == 66 and "no rota" in err
            code, _, err = await lifeline(mine, "alerts", "rota", "set", str(rota_file))
            assert code == 77, "a lawyer may not set the rota"
            code, data, err = await lifeline(
                boss, "alerts", "rota", "set", str(rota_file), "--json"
            )
            assert code == 0, err
            assert [m["name"] for m in data["members"]] == ["Anna", "Boris"]

            code, text, err = await lifeline(mine, "alerts", "rota", "show")
            assert code == 0, err
            assert "hand-over monday 00:30 (Asia/Almaty)" in text and "Member 2: Boris" in text
            # Monday 00:30 in Almaty is Sunday 19:30 UTC: Boris takes over then.
            code, duty, err = await lifeline(
                mine, "alerts", "rota", "on-duty", "--at", "2026-03-08T19:30:00Z", "--json"
            )
            assert code == 0 and (duty["name"], duty["source"]) == ("Boris", "rota"), err
            code, text, _ = await lifeline(
                mine, "alerts", "rota", "on-duty", "--at", "2026-03-20T12:00:00Z"
            )
            assert "Anna is on duty (covering) until 2026-03-21T00:00:00Z" in text
            assert "anna@bar.example" in text
            code, _, err = await lifeline(mine, "alerts", "rota", "on-duty", "--at", "tomorrow")
            assert code == 65 and "query.at" in err

            out = tmp_path / "rota.ics"
            code, _, err = await lifeline(
                mine, "alerts", "rota", "ics", "--weeks", "3", "--output", str(out)
            )
            assert code == 0, err
            events = icalendar.Calendar.from_ical(out.read_bytes()).walk("VEVENT")
            assert 3 <= len(events) <= 4
            assert {str(e["SUMMARY"]) for e in events} <= {"On duty: Anna", "On duty: Boris"}
            assert b"@bar.example" not in out.read_bytes()

            code, _, err = await lifeline(boss, "alerts", "rota", "delete")
            assert code == 0, err
            code, duty, _ = await lifeline(mine, "alerts", "rota", "on-duty", "--json")
            assert (duty["source"], duty["member"]) == ("duty_contacts", None)
