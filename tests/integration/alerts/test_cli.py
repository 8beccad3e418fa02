"""The lawyer's CLI against real sharing (token endpoint, OPRF) and alerts: the name stays local."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from libs.sdk import save_private_key
from libs.sdk.identity import tokenise_identities
from lifeline.cli.profile import Profile, save_profile
from services.alerts.app import create_app as alerts_app
from services.alerts.settings import AlertsSettings
from tests.integration.alerts.conftest import FAST
from tests.integration.alerts.support import receiver, report_event, until
from tests.integration.auth.conftest import running_sharing, sharing_settings
from tests.support.natsd import NatsServer, free_port
from tests.support.servers import serve_app

LIFELINE = str(Path(sys.executable).parent / "lifeline")


async def lifeline(profile: Path, *argv: str) -> tuple[int, Any, str]:
    """Run the real `lifeline` command; (exit code, parsed JSON stdout or text, stderr)."""
    env = {**os.environ, "LIFELINE_PROFILE": str(profile)}
    proc = await asyncio.create_subprocess_exec(
        LIFELINE, *argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    text = out.decode()
    try:
        parsed: Any = json.loads(text)
    except ValueError:
        parsed = text
    return proc.returncode or 0, parsed, err.decode()


async def test_lawyer_cli_journey(
    nats_server: NatsServer, db_url_factory: Callable[[str], str], tmp_path: Path
) -> None:
    s_set = sharing_settings(tmp_path, nats_server.url, db_url_factory("sharing"))
    alerts_db = db_url_factory("alerts")
    async with (
        httpx.AsyncClient(timeout=10) as http,
        running_sharing(s_set, http) as sharing,
        receiver() as hook,
    ):
        a_set = AlertsSettings(
            data_dir=tmp_path / "alerts",
            database_url=alerts_db,
            nats_url=nats_server.url,
            port=free_port(),
            sharing_url=sharing.url,
            **FAST,
        )
        async with serve_app(alerts_app, a_set) as (alerts_url, _):
            lawyer = await sharing.client("watchlist:manage", "alerts:read", "alerts:ack")
            ngo = await sharing.client("reports:submit")
            key_path = tmp_path / "lawyer.pem"
            save_private_key(lawyer.key, key_path, None)
            profile = tmp_path / "profile.json"
            save_profile(
                profile,
                Profile(
                    sharing_url=sharing.url,
                    alerts_url=alerts_url,
                    client_id=lawyer.client_id,
                    key_path=str(key_path),
                ),
            )

            code, data, err = await lifeline(
                profile, "alerts", "contacts", "set", "--webhook-url", hook.url,
                "--email", "lawyer@example.org", "--backup-email", "Anna <anna@example.org>", "--json",
            )  # fmt: skip
            assert code == 0, err
            primary = next(c for c in data["contacts"] if c["role"] == "primary")
            hook.secret = data["new_secrets"][primary["id"]]

            code, data, err = await lifeline(
                profile, "watchlist", "add", "--name", "Лев Скорякин", "--dob", "1999-03-14",
                "--label", "client 12", "--json",
            )  # fmt: skip
            assert code == 0, err
            assert data["status"] == "created" and data["token_count"] == 7

            csv = tmp_path / "clients.csv"
            csv.write_text(
                "label,name,dob\n"
                "client 12,Лев Скорякин,1999-03-14\n"
                "client 13,Anna Petrova,02.05.1987\n"
                "client 14,Ivan Sidorov,1990-13-45\n"
                ",No Label,1980\n"
            )
            code, first, err = await lifeline(profile, "watchlist", "import", str(csv), "--json")
            assert code == 3  # partial: rows were rejected, others taken
            assert (first["created"], first["unchanged"]) == (["client 13"], ["client 12"])
            assert sorted(r["line"] for r in first["rejected"]) == [4, 5]
            assert "Ivan" not in json.dumps(first) and "Sidorov" not in err
            code, again, _ = await lifeline(profile, "watchlist", "import", str(csv), "--json")
            assert again["created"] == [] and sorted(again["unchanged"]) == [
                "client 12",
                "client 13",
            ]

            code, entries, _ = await lifeline(profile, "watchlist", "list", "--json")
            assert sorted(e["label"] for e in entries) == ["client 12", "client 13"]

            # An NGO reports the detention, tokenising its own spelling through sharing's OPRF.
            async with httpx.AsyncClient(base_url=sharing.url, timeout=10) as ngo_http:
                ngo_http.headers.update(await ngo.headers(ngo_http))
                (tokens,) = await tokenise_identities(ngo_http, [("SKORIAKIN LEV", "14.03.1999")])
            from libs.common import nats as natsx

            nc = await natsx.connect(nats_server.url, "test-intake")
            try:
                await natsx.publish(nc.jetstream(), report_event([t.model_dump() for t in tokens]))
            finally:
                await nc.close()
            assert await until(lambda: hook.hits, timeout=15)
            assert hook.hits[0].payload["data"]["label"] == "client 12"

            code, alerts, _ = await lifeline(
                profile, "alerts", "list", "--status", "open", "--json"
            )
            (alert,) = alerts
            code, text, err = await lifeline(profile, "alerts", "show", alert["id"])
            assert code == 0 and "client 12" in text and "delivered" in text, err
            code, acked, err = await lifeline(profile, "alerts", "ack", alert["id"], "--json")
            assert code == 0 and acked["already"] is False, err
            assert acked["alert"]["acknowledged"]["by"] == lawyer.client_id
            code, resolved, err = await lifeline(
                profile, "alerts", "resolve", alert["id"], "--outcome", "released",
                "--note", "Released at 14:00, no charges", "--json",
            )  # fmt: skip
            assert code == 0 and resolved["status"] == "resolved", err
            assert resolved["resolution"]["outcome"] == "released"
            code, text, err = await lifeline(profile, "alerts", "show", alert["id"])
            assert code == 0 and "resolved   released by" in text, err
            assert "note       Released at 14:00, no charges" in text
            code, text, err = await lifeline(
                profile, "alerts", "resolve", alert["id"], "--outcome", "escaped"
            )
            assert code == 64 and "invalid choice" in err  # a usage error
            # "Not my client": the entry holds a suppression, the figure counts it, it lifts.
            code, _, err = await lifeline(
                profile, "alerts", "resolve", alert["id"], "--outcome", "not_my_client"
            )
            assert code == 0, err
            code, held, err = await lifeline(
                profile, "watchlist", "suppressions", "client 12", "--json"
            )
            assert code == 0 and [h["alert_id"] for h in held] == [alert["id"]], err
            code, text, err = await lifeline(profile, "alerts", "feedback")
            assert code == 0 and "Resolved alerts: 1, not my client 100%" in text, err
            code, figure, err = await lifeline(
                profile, "alerts", "feedback", "--since", "2000-01-01T00:00:00+00:00", "--json"
            )
            assert code == 0 and figure["by_outcome"]["not_my_client"] == 1, err
            code, _, err = await lifeline(profile, "alerts", "feedback", "--since", "monday")
            assert code == 65 and "since" in err  # refused by alerts (422)
            code, _, err = await lifeline(profile, "watchlist", "lift", "client 12", held[0]["id"])
            assert code == 0, err
            code, held, err = await lifeline(
                profile, "watchlist", "suppressions", "client 12", "--json"
            )
            assert code == 0 and held == [], err

            code, tested, err = await lifeline(
                profile, "alerts", "contacts", "test", primary["id"], "--json"
            )
            assert code == 0 and tested["delivered"] is True, err
            assert hook.alerts("alert.test")
            # The webhook delivered the alerts above: its health says so.
            code, text, err = await lifeline(profile, "alerts", "contacts", "show")
            assert code == 0 and "HEALTH" in text, err
            line = next(row for row in text.splitlines() if row.startswith(primary["id"]))
            assert line.rstrip().endswith("ok") and "WARNING" not in text

            code, _, err = await lifeline(profile, "watchlist", "remove", "client 13")
            assert code == 0, err
            code, entries, _ = await lifeline(profile, "watchlist", "list", "--json")
            assert [e["label"] for e in entries] == ["client 12"]
            code, _, err = await lifeline(profile, "watchlist", "remove", "client 99")
            assert (
                code == 66 and err.startswith("lifeline: error: no entry") and err.count("\n") == 1
            )

            # The language is set when asked and kept by a later `contacts set` without it.
            email = ("--email", "lawyer@example.org", "--json")
            code, data, err = await lifeline(
                profile, "alerts", "contacts", "set", *email, "--language", "ru"
            )
            assert code == 0 and data["language"] == "ru", err
            code, data, err = await lifeline(profile, "alerts", "contacts", "set", *email)
            assert code == 0 and data["language"] == "ru", err

            # Any registered channel, in any role; an ntfy topic's token from a file.
            (tmp_path / "ntfy.token").write_text("tk_lawyersntfytoken000000000000\n")
            code, data, err = await lifeline(
                profile, "alerts", "contacts", "set", *email,
                "--contact", "primary:signal:+4915112345678",
                "--contact", "backup:ntfy:https://ntfy.example.org/lawyer-topic",
                "--contact", "backup:sms:+4915112345678",
                "--ntfy-token-file", str(tmp_path / "ntfy.token"),
            )  # fmt: skip
            assert code == 0, err
            kinds = {(c["role"], c["channel"], c["address"]) for c in data["contacts"]}
            assert ("primary", "signal", "+4915112345678") in kinds
            assert ("backup", "ntfy", "https://ntfy.example.org/lawyer-topic") in kinds
            assert "tk_lawyers" not in json.dumps(data)  # the token is never shown back
            code, _, err = await lifeline(
                profile, "alerts", "contacts", "set", "--contact", "primary:pager:+491"
            )
            assert code == 65 and "channel" in err, err  # refused by alerts (422)
            code, _, err = await lifeline(profile, "alerts", "contacts", "set", "--contact", "x")
            assert code == 1 and "ROLE:CHANNEL:ADDRESS" in err, err

    # The names never reached the server: not in alerts' database.
    if alerts_db.startswith("sqlite"):
        path = Path(alerts_db.split("///", 1)[1])
        stored = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        assert b"client 12" in stored  # the search below would find text if it were there
        for word in ("Скорякин", "Skoryakin", "SKORIAKIN", "Petrova"):
            assert word.encode() not in stored
