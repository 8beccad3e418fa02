"""The restore drill: back up a running network, erase a report after, restore into an empty
directory and start on it, as an operator would (docs/backup.md).

A partner and a lawyer are onboarded, reports submitted, a client watched and an alert raised;
the backup is taken while more reports arrive; one report is erased after the backup. The
restored network serves the same partners, reports, watchlist and alert, and the erased report
answers 410 even though the backup still held it.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from libs.common.auth.scopes import TOKEN_PATH
from libs.sdk import TokenSource
from tests.support.auth import role_for
from tests.support.cli import keyed_client, run_cli
from tests.support.databases import Databases
from tests.support.network import lifeline_up

SERVICES = ("intake", "sharing", "alerts")
LAWYER = ("watchlist:manage", "alerts:read", "alerts:ack")
READER = ("reports:read", "reports:manage")
pytestmark = pytest.mark.timeout(600)
NARRATIVE = "Detained at Manas airport on arrival; the officer cited an interstate search"


async def _login(
    env: dict[str, str], urls: dict[str, str], client_id: str, key: Path, profile: Path
) -> list[str]:
    flags = ["--profile", str(profile)]
    await run_cli(
        env,
        "login",
        "--sharing-url",
        urls["sharing"],
        "--intake-url",
        urls["intake"],
        "--alerts-url",
        urls["alerts"],
        "--client-id",
        client_id,
        "--key",
        str(key),
        *flags,
    )
    return flags


class _Api:
    """One client's calls over HTTP with one token source (a token is reused, as clients do)."""

    def __init__(self, http: httpx.AsyncClient, sharing: str, client_id: str, key: Path) -> None:
        private = load_pem_private_key(key.read_bytes(), password=None)
        assert isinstance(private, Ed25519PrivateKey)
        self.http = http
        self.source = TokenSource(
            http, token_endpoint=sharing + TOKEN_PATH, client_id=client_id, private_key=private
        )

    async def call(self, method: str, url: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {await self.source.token()}"}
        return await self.http.request(method, url, headers=headers)

    async def readable(self, url: str) -> int:
        """The status of a report read, once it stops being 404 (or 404 after 20 s)."""
        for _ in range(100):
            status = (await self.call("GET", url)).status_code
            if status != 404:
                return status
            await asyncio.sleep(0.2)
        return 404


def _submitted(out: dict[str, Any]) -> dict[str, str]:
    return {r["client_report_id"]: r["report_id"] for r in out["reports"]}


def _databases(factory: Databases, suffix: str) -> dict[str, str]:
    """Each service's `LIFELINE_<SERVICE>_DATABASE_URL` on PostgreSQL; nothing on SQLite."""
    if factory.backend != "postgresql":
        return {}
    return {f"LIFELINE_{s.upper()}_DATABASE_URL": factory(s + suffix) for s in SERVICES}


async def test_a_backup_restored_serves_the_same_network_and_erasure_wins(
    tmp_path: Path, db_url_factory: Databases
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIFELINE_")}
    before, after = _databases(db_url_factory, ""), _databases(db_url_factory, "-restored")
    config = tmp_path / "config"
    env["XDG_CONFIG_HOME"] = str(config)
    admin = ["--profile", str(tmp_path / "admin.json")]
    backup, key = tmp_path / "offsite" / "network.backup", tmp_path / "offsite" / "backup.key"
    backup.parent.mkdir()
    await run_cli(env, "backup", "keygen", "--out", str(key))

    (tmp_path / "before").mkdir()
    with lifeline_up(tmp_path / "before", env=before) as net:
        urls = net.urls
        await run_cli(
            env,
            "admin",
            "init",
            "--sharing-url",
            urls["sharing"],
            "--data-dir",
            str(net.data_dir),
            "--no-passphrase",
            *admin,
        )
        bar = await run_cli(env, "admin", "partner", "create", "Tbilisi Bar", *admin)
        ngo = await run_cli(env, "admin", "partner", "create", "Bishkek Legal Aid", *admin)
        ids = {
            "lawyer": await keyed_client(
                env, admin, bar["id"], "lawyer", LAWYER, role_for(LAWYER), config
            ),
            "submitter": await keyed_client(
                env,
                admin,
                ngo["id"],
                "case tool",
                ("reports:submit",),
                role_for(("reports:submit",)),
                config,
            ),
            "reader": await keyed_client(
                env, admin, ngo["id"], "desk", READER, role_for(READER), config
            ),
        }
        keys = {name: config / f"{cid}.pem" for name, cid in ids.items()}
        lawyer = await _login(env, urls, ids["lawyer"], keys["lawyer"], tmp_path / "l.json")
        ngo_cli = await _login(env, urls, ids["submitter"], keys["submitter"], tmp_path / "n.json")
        reader = (ids["reader"], keys["reader"])
        entry = await run_cli(
            env,
            "watchlist",
            "add",
            "--name",
            "Лев Скорякин",
            "--dob",
            "1999-03-14",
            "--label",
            "client 12",
            *lawyer,
        )

        (detention,) = await run_cli(env, "report", "template", json_flag=False)
        detention["narrative"] = NARRATIVE
        others = [
            {
                **detention,
                "client_report_id": f"kg-2026-{n}",
                "person": {"name": name, "dob": "1980-01-01"},
            }
            for n, name in enumerate(("Ivan Petrov", "Aigul Sadykova"))
        ]
        first = tmp_path / "first.json"
        first.write_text(json.dumps([detention, *others]))
        done = _submitted(await run_cli(env, "report", "submit", str(first), *ngo_cli))
        assert len(done) == 3
        watched, kept, erased = (
            done[detention["client_report_id"]],
            done["kg-2026-0"],
            done["kg-2026-1"],
        )

        async def alerted() -> list[Any]:
            return list(await run_cli(env, "alerts", "list", *lawyer))

        alerts: list[Any] = []
        for _ in range(100):
            if alerts := await alerted():
                break
            await asyncio.sleep(0.2)
        assert [a["report_id"] for a in alerts] == [watched], alerts
        async with httpx.AsyncClient(timeout=10) as http:
            desk = _Api(http, urls["sharing"], *reader)
            for rid in done.values():
                assert await desk.readable(f"{urls['sharing']}/v1/reports/{rid}") == 200, rid

        # More reports arrive while the backup runs.
        flight = tmp_path / "flight.json"
        flight.write_text(
            json.dumps(
                [
                    {
                        **detention,
                        "client_report_id": f"kg-flight-{n}",
                        "person": {"name": "Ivan Petrov", "dob": "1980-01-01"},
                    }
                    for n in range(40)
                ]
            )
        )
        submitting = asyncio.create_task(
            run_cli(env, "report", "submit", str(flight), "--concurrency", "2", *ngo_cli)
        )
        await asyncio.sleep(2)  # the submitter is under way
        in_flight, made = await asyncio.gather(
            submitting,
            run_cli(
                {**env, **before},
                "backup",
                "create",
                "--data-dir",
                str(net.data_dir),
                "--out",
                str(backup),
                "--recipient",
                f"{key}.pub",
            ),
        )
        assert made["bytes"] > 0 and oct(backup.stat().st_mode & 0o777) == "0o600"

        # After the backup: the partner erases a report; the ledger is exported off the host.
        async with httpx.AsyncClient(timeout=10) as http:
            desk = _Api(http, urls["sharing"], *reader)
            gone = await desk.call("DELETE", f"{urls['sharing']}/v1/reports/{erased}")
        assert gone.status_code == 200, gone.text
        ledger = tmp_path / "offsite" / "erasures.json"
        await run_cli(
            {**env, **before},
            "backup",
            "erasures",
            "--data-dir",
            str(net.data_dir),
            "--out",
            str(ledger),
        )

    # A seized backup file shows nothing in clear.
    raw = backup.read_bytes()
    for secret in (NARRATIVE, "client 12", "Bishkek Legal Aid", "Tbilisi Bar", "SQLite format"):
        assert secret.encode() not in raw
    verified = await run_cli(env, "backup", "verify", str(backup), "--key", str(key))
    assert verified["created_at"]

    restored = tmp_path / "after" / "data"
    out = await run_cli(
        env,
        "backup",
        "restore",
        str(backup),
        "--key",
        str(key),
        "--data-dir",
        str(restored),
        "--erasures",
        str(ledger),
        *[f"--database-url={k.split('_')[1].lower()}={v}" for k, v in after.items()],
    )
    assert out["erasures"]["shredded"] == 1, out
    for path in (restored / "keys").iterdir():
        assert path.stat().st_mode & 0o077 == 0, path
    assert restored.stat().st_mode & 0o077 == 0

    with lifeline_up(tmp_path / "after", env=after) as net:
        urls = net.urls
        admin2 = await _login(
            env,
            urls,
            json.loads((tmp_path / "admin.json").read_text())["client_id"],
            tmp_path / "admin-key.pem",
            tmp_path / "admin2.json",
        )
        names = {p["name"] for p in await run_cli(env, "admin", "partner", "list", *admin2)}
        assert {"Tbilisi Bar", "Bishkek Legal Aid"} <= names
        lawyer = await _login(env, urls, ids["lawyer"], keys["lawyer"], tmp_path / "l2.json")
        assert [e["id"] for e in await run_cli(env, "watchlist", "list", *lawyer)] == [entry["id"]]
        assert [a["report_id"] for a in await run_cli(env, "alerts", "list", *lawyer)] == [watched]
        async with httpx.AsyncClient(timeout=10) as http:
            desk = _Api(http, urls["sharing"], *reader)
            tool = _Api(http, urls["sharing"], ids["submitter"], keys["submitter"])
            read = await desk.call("GET", f"{urls['sharing']}/v1/reports/{watched}")
            assert read.status_code == 200, read.text
            assert read.json()["report"]["narrative"] == NARRATIVE
            assert await desk.readable(f"{urls['sharing']}/v1/reports/{kept}") == 200
            assert await desk.readable(f"{urls['sharing']}/v1/reports/{erased}") == 410
            # Every report of the batch in flight that the restored intake accepted is readable
            # (those accepted after intake's copy was taken it does not know: 404).
            for rid in _submitted(in_flight).values():
                receipt = await tool.call("GET", f"{urls['intake']}/v1/reports/{rid}/receipt")
                assert receipt.status_code in (200, 404), receipt.text
                if receipt.status_code == 200:
                    assert await desk.readable(f"{urls['sharing']}/v1/reports/{rid}") == 200, rid
