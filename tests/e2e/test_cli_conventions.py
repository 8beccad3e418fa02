"""The CLI's exit statuses and JSON errors against the network as `lifeline up` starts it.

No server, a revoked and an unknown key, a bad report, a file with one good and one bad row,
`report show`, `report erase` then `report show` (gone), and `lifeline token` used with httpx
against a real route.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from lifeline.cli.report import EXAMPLE
from tests.support.natsd import free_port
from tests.support.network import LIFELINE, lifeline_up

# About thirty CLI runs and a network start: 190 s on a 2-core machine at a load of 12.
pytestmark = pytest.mark.timeout(480)


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [LIFELINE, *args], capture_output=True, text=True, timeout=60, env=env,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip


def _ok(env: dict[str, str], *args: str) -> Any:
    done = _cli(env, *args, "--json")
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return json.loads(done.stdout)


def _fails(env: dict[str, str], status: int, *args: str) -> dict[str, Any]:
    """Run with --json; it must exit `status` with one JSON error object on stderr."""
    done = _cli(env, "--json", *args)
    assert done.returncode == status, (args, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    error: dict[str, Any] = json.loads(lines[0])
    assert error["exit"] == status and error["detail"], error
    return error


def _row(client_report_id: str, **changes: Any) -> dict[str, Any]:
    return {**EXAMPLE, "client_report_id": client_report_id, **changes}


def test_exit_statuses_and_json_errors_with_a_real_network(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIFELINE_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    admin = ["--profile", str(tmp_path / "admin.json")]
    ngo = ["--profile", str(tmp_path / "ngo.json")]
    key = tmp_path / "ngo.pem"
    _ok(env, "keygen", "--out", str(key), "--no-passphrase")

    # No server at all: "unreachable", for the token request and for the command behind it.
    nowhere = f"http://127.0.0.1:{free_port()}"
    offline = ["--profile", str(tmp_path / "offline.json")]
    _ok(env, "profile", "set", "--sharing-url", nowhere, "--intake-url", nowhere,
        "--client-id", "cli_x", "--key", str(key), *offline)  # fmt: skip
    assert _fails(env, 69, "report", "show", "x", *offline)["code"] == "unreachable"
    assert _fails(env, 69, "token", *offline)["code"] == "unreachable"

    with lifeline_up(tmp_path) as net:
        urls = net.urls
        _ok(env, "admin", "init", "--sharing-url", urls["sharing"], "--data-dir",
            str(net.data_dir), "--no-passphrase", *admin)  # fmt: skip
        partner = _ok(env, "admin", "partner", "create", "Legal Aid Tbilisi", *admin)
        client = _ok(env, "admin", "client", "create", "--partner", partner["id"], "--name",
                     "case tool", "--role", "reader", "--scope", "reports:submit", "--scope",
                     "reports:read", "--scope", "reports:manage", *admin)  # fmt: skip
        public = _ok(env, "keygen", "--out", str(tmp_path / "ngo.pem"), "--force",
                     "--no-passphrase")  # fmt: skip
        _ok(env, "admin", "key", "create", client["id"], "--public-key", public["public_key"],
            *admin)  # fmt: skip
        _ok(env, "login", "--sharing-url", urls["sharing"], "--intake-url", urls["intake"],
            "--client-id", client["id"], "--key", str(key), *ngo)  # fmt: skip

        # One good and one bad row: partial success, and the accepted row's id is printed.
        mixed = tmp_path / "mixed.json"
        mixed.write_text(json.dumps([_row("tb-1"), _row("tb-2", occurred_at="yesterday")]))
        done = _cli(env, "report", "submit", str(mixed), *ngo)
        assert done.returncode == 3, (done.stdout, done.stderr)
        printed = re.search(r"tb-1 -> ([0-9a-f-]{36})", done.stdout)
        assert printed and "rejected 1" in done.stdout, done.stdout
        report_id = printed.group(1)

        # Only bad rows: rejected input, the summary still JSON on stdout.
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps([_row("tb-3", tlp="PURPLE")]))
        done = _cli(env, "report", "submit", str(bad), "--json", *ngo)
        assert done.returncode == 65, (done.stdout, done.stderr)
        summary = json.loads(done.stdout)
        assert summary["accepted"] == 0 and summary["rejected"][0]["client_report_id"] == "tb-3"
        dry = _cli(env, "report", "submit", str(bad), "--dry-run", "--json", *ngo)
        assert dry.returncode == 65 and json.loads(dry.stdout)["dry_run"] is True, dry.stderr

        # The partner reads its own report through sharing's policy layer.
        shown = _ok(env, "report", "show", report_id, *ngo)
        assert shown["report_id"] == report_id and shown["partner_id"] == partner["id"]
        assert shown["report"]["place"]["locality"] == "Bishkek"
        human = _cli(env, "report", "show", report_id, *ngo)
        assert human.returncode == 0 and f"report {report_id} from" in human.stdout
        assert _fails(env, 66, "report", "show", "0" * 8 + "-0000-0000-0000-" + "0" * 12,
                      *ngo)["status"] == 404  # fmt: skip

        # A token for curl: one line on stdout, accepted by intake's real route.
        plain = _cli(env, "token", "--audience", "intake", *ngo)
        assert plain.returncode == 0 and plain.stderr == "", plain.stderr
        token = plain.stdout.strip()
        assert "\n" not in token and token.count(".") == 2
        described = _ok(env, "token", "--audience", "intake", *ngo)
        assert described["audiences"] == ["lifeline-intake"] and described["expires_in"] > 60
        assert described["token_type"] == "Bearer" and described["expires_at"].endswith("+00:00")
        receipt = httpx.get(
            f"{urls['intake']}/v1/reports/{report_id}/receipt",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert receipt.status_code == 200 and receipt.json()["report_id"] == report_id
        wrong = httpx.get(
            f"{urls['sharing']}/v1/reports/{report_id}",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert wrong.status_code == 401  # a token for intake is no token for sharing

        # Erasure asks first: without a terminal and without --yes nothing happens.
        refused = _fails(env, 64, "report", "erase", report_id, *ngo)
        assert refused["code"] == "confirmation_required"
        assert _ok(env, "report", "show", report_id, *ngo)["report_id"] == report_id
        erased = _ok(env, "report", "erase", report_id, "--yes", *ngo)
        assert erased["report_id"] == report_id and erased["erased_at"]
        gone = _fails(env, 66, "report", "show", report_id, *ngo)
        assert (gone["status"], gone["code"]) == (410, "gone")

        # An unknown client, then a revoked one: "auth".
        stranger = ["--profile", str(tmp_path / "stranger.json")]
        _ok(env, "profile", "set", "--sharing-url", urls["sharing"], "--client-id",
            "cli_unknown", "--key", str(key), *stranger)  # fmt: skip
        assert _fails(env, 77, "report", "show", report_id, *stranger)["code"] == "invalid_client"
        _ok(env, "admin", "client", "revoke", client["id"], *admin)
        assert _fails(env, 77, "token", *ngo)["code"] == "invalid_client"
        fresh = tmp_path / "fresh.json"
        fresh.write_text(json.dumps([_row("tb-4")]))
        done = _cli(env, "report", "submit", str(fresh), "--retry-for", "2", *ngo)
        assert done.returncode == 77, (done.stdout, done.stderr)
        assert done.stderr.startswith("lifeline: error: sharing refused these credentials")
