"""Key rotation without downtime: KEK rotate -> rewrap (resumable, two at once) -> retire; sealing keys."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from libs.common.clock import FakeClock
from libs.common.crypto.hpke_keys import HpkeSuite
from tests.integration.vault.conftest import Vault, cli_json, running_vault, vault_settings
from tests.support.natsd import NatsServer


async def _versions(vault: Vault) -> dict[int, int]:
    rows = await vault.sql(
        "SELECT kek_version, count(*) AS n FROM vault_data_keys GROUP BY kek_version"
    )
    return {r.kek_version: r.n for r in rows}


async def _all_readable(vault: Vault, reader: object, ids: list[str]) -> None:
    page = (await vault.call(reader, "GET", "/v1/reports", params={"limit": 200})).json()  # type: ignore[arg-type]
    assert sorted(r["report_id"] for r in page["reports"] if "report" in r) == sorted(ids)


async def test_kek_rotate_rewrap_retire(vault: Vault) -> None:
    a = await vault.client("reports:read")
    old = [await vault.submit(a.partner_id) for _ in range(3)]
    rotated = await vault.admin_call("POST", "/v1/admin/vault/kek/rotate", json={})
    assert rotated.json() == {"version": 2, "promoted": True}
    new = await vault.submit(a.partner_id)
    assert await _versions(vault) == {1: 3, 2: 1}
    await _all_readable(vault, a, [*old, new])  # no downtime: both versions unwrap

    refused = await vault.admin_call("POST", "/v1/admin/vault/kek/1/retire")
    assert refused.status_code == 409 and "3 data keys" in refused.json()["detail"]
    done = (
        await vault.admin_call("POST", "/v1/admin/vault/kek/rewrap", params={"batch": 2})
    ).json()
    assert (done["rewrapped"], done["remaining"], done["failed"]) == (3, 0, 0)
    assert await _versions(vault) == {2: 4}
    # Rotation touches data keys only: the field ciphertexts are byte for byte the same.
    rows = await vault.sql(
        "SELECT field_kek_version FROM vault_reports WHERE report_id = :r", r=old[0]
    )
    assert rows[0].field_kek_version == 1

    assert (await vault.admin_call("POST", "/v1/admin/vault/kek/1/retire")).status_code == 200
    assert (
        await vault.admin_call("POST", "/v1/admin/vault/kek/2/retire")
    ).status_code == 409  # primary
    assert (await vault.admin_call("POST", "/v1/admin/vault/kek/9/retire")).status_code == 404
    await _all_readable(vault, a, [*old, new])
    kek_file = json.loads(vault.settings.resolved_kek_file().read_text())
    assert [(v["version"], v["state"], v["key"] is None) for v in kek_file["versions"]] == [
        (1, "retired", True),
        (2, "active", False),
    ]
    status = (await vault.admin_call("GET", "/v1/admin/vault/keys")).json()
    assert [(k["version"], k["state"], k["data_keys"]) for k in status["kek"]] == [
        (1, "retired", 0),
        (2, "active", 4),
    ]
    audit = (await vault.admin_call("GET", "/v1/admin/audit", params={"limit": 1000})).json()
    actions = [e["action"] for e in audit["entries"] if e["action"].startswith("kek.")]
    assert actions == ["kek.rotate", "kek.rewrap", "kek.retire"]
    a_only = await vault.client("reports:read")
    assert (
        await vault.call(a_only, "POST", "/v1/admin/vault/kek/rotate", json={})
    ).status_code == 403


async def test_kek_commands_of_the_cli(vault: Vault, tmp_path: Path) -> None:
    a = await vault.client("reports:read")
    ids = [await vault.submit(a.partner_id) for _ in range(2)]
    home = tmp_path / "admin"
    staged = await cli_json(vault, vault.admin, home, "admin", "keys", "rotate", "--stage-only")
    assert staged == {"version": 2, "promoted": False}
    ids.append(await vault.submit(a.partner_id))
    assert await _versions(vault) == {1: 3}  # a staged version wraps nothing yet
    promoted = await cli_json(vault, vault.admin, home, "admin", "keys", "promote", "2")
    assert promoted == {"version": 2, "promoted": True}
    ids.append(await vault.submit(a.partner_id))
    assert await _versions(vault) == {1: 3, 2: 1}
    rewrapped = await cli_json(vault, vault.admin, home, "admin", "keys", "rewrap", "--batch", "1")
    assert (rewrapped["rewrapped"], rewrapped["remaining"]) == (3, 0)
    assert (await cli_json(vault, vault.admin, home, "admin", "keys", "retire", "1"))[
        "state"
    ] == "retired"
    listed = await cli_json(vault, vault.admin, home, "admin", "keys", "list")
    assert [k["state"] for k in listed["kek"]] == ["retired", "active"]
    await _all_readable(vault, a, ids)


async def test_promoting_an_unknown_or_retired_kek_version_is_a_clear_client_error(
    vault: Vault,
) -> None:
    unknown = await vault.admin_call("POST", "/v1/admin/vault/kek/9/promote")
    assert (unknown.status_code, unknown.json()["code"]) == (404, "not_found")
    await vault.admin_call("POST", "/v1/admin/vault/kek/rotate", json={})
    assert (await vault.admin_call("POST", "/v1/admin/vault/kek/1/retire")).status_code == 200
    retired = await vault.admin_call("POST", "/v1/admin/vault/kek/1/promote")
    assert (retired.status_code, retired.json()["code"]) == (409, "conflict")
    status = (await vault.admin_call("GET", "/v1/admin/vault/keys")).json()
    assert [(k["version"], k["primary"]) for k in status["kek"]] == [(1, False), (2, True)]


def _job(vault: Vault, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable, "-m", "services.sharing.vault.keys.rewrap",
            "--database-url", vault.settings.resolved_database_url(),
            "--kek-file", str(vault.settings.resolved_kek_file()),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


async def test_the_rewrap_job_resumes_after_kill_9_and_runs_twice_at_once(vault: Vault) -> None:
    a = await vault.client("reports:read")
    ids = [await vault.submit(a.partner_id) for _ in range(40)]
    await vault.admin_call("POST", "/v1/admin/vault/kek/rotate", json={})

    job = _job(vault, "--batch", "3", "--pause", "0.2")
    for _ in range(300):
        moved = (await _versions(vault)).get(2, 0)
        if moved >= 6:
            break
        await asyncio.sleep(0.05)
    job.send_signal(signal.SIGKILL)
    await asyncio.to_thread(job.wait)
    partial = await _versions(vault)
    assert 6 <= partial.get(2, 0) < 40, partial
    await _all_readable(vault, a, ids)  # half-rotated is a normal state

    resumed = _job(vault, "--batch", "7")
    out, err = await asyncio.to_thread(resumed.communicate)
    assert resumed.returncode == 0, err
    assert json.loads(out.splitlines()[-1]) == {"done": True, "primary": 2, "left": 0}
    assert await _versions(vault) == {2: 40}

    # Two jobs at once (two replicas, two operators): every key ends under the new primary once.
    await vault.admin_call("POST", "/v1/admin/vault/kek/rotate", json={})
    jobs = [_job(vault, "--batch", "4"), _job(vault, "--batch", "4")]
    results = await asyncio.gather(*(asyncio.to_thread(j.communicate) for j in jobs))
    assert [j.returncode for j in jobs] == [0, 0], results
    assert await _versions(vault) == {3: 40}
    if make_url(vault.settings.resolved_database_url()).get_backend_name() == "postgresql":
        # SKIP LOCKED: the two jobs shared the work without doing any of it twice.
        totals = [json.loads(out.splitlines()[-2])["rewrapped"] for out, _ in results]
        assert sum(totals) == 40, totals
    assert (await vault.admin_call("POST", "/v1/admin/vault/kek/2/retire")).status_code == 200
    await _all_readable(vault, a, ids)


async def test_sealing_key_rotation_keeps_old_reports_flowing_until_retired(
    nats_server: NatsServer,
    db_url_factory,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    settings = vault_settings(
        tmp_path, nats_server.url, db_url_factory("sharing"), sealing_key_retire_grace_s=0
    )
    async with httpx.AsyncClient(timeout=15) as http, running_vault(settings, http) as vault:
        a = await vault.client("reports:read")
        old_public = vault.keys.active().key.public_key
        old_kid = vault.keys.active().public_view()["kid"]
        rotated = await vault.admin_call(
            "POST", "/v1/admin/vault/sealing-keys/rotate", json={"suite": "x25519"}
        )
        assert rotated.status_code == 200, rotated.text
        new_kid = rotated.json()["kid"]
        published = (await http.get(vault.url + "/.well-known/lifeline/hpke-keys")).json()["keys"]
        assert [(k["kid"], k["state"]) for k in published] == [
            (new_kid, "active"),
            (old_kid, "retiring"),
        ]
        assert vault.keys.active().key.suite is HpkeSuite.X25519

        # Intake may still seal to the old key for a while: those reports are stored too.
        via_old, event = vault.event(a.partner_id, seal_key=old_public)
        await vault.publish(event)
        await vault.stored(via_old)
        via_new = await vault.submit(a.partner_id)
        status = (await vault.admin_call("GET", "/v1/admin/vault/keys")).json()["sealing"]
        assert {k["kid"]: k["last_report_at"] is not None for k in status} == {
            new_kid: True,
            old_kid: True,
        }

        # Retiring waits for the vault consumer to have nothing pending.
        keys = vault.app.state.container.vault_keys
        assert await keys.pending() == 0
        real = keys.pending

        async def busy() -> int:
            return 3

        keys.pending = busy
        refused = await vault.admin_call("POST", f"/v1/admin/vault/sealing-keys/{old_kid}/retire")
        assert refused.status_code == 409 and "3 received reports" in refused.json()["detail"]
        keys.pending = real
        active = await vault.admin_call("POST", f"/v1/admin/vault/sealing-keys/{new_kid}/retire")
        assert active.status_code == 409
        retired = await vault.admin_call("POST", f"/v1/admin/vault/sealing-keys/{old_kid}/retire")
        assert retired.status_code == 200, retired.text

        # From now on a report sealed to the old key cannot be opened; stored ones stay readable.
        _, late = vault.event(a.partner_id, seal_key=old_public)
        await vault.publish(late)
        assert await vault.dead_letter(late.id) == "permanent:sealed report does not open"
        await _all_readable(vault, a, [via_old, via_new])
        stored_file = json.loads(settings.resolved_hpke_key_file().read_text())
        assert len(stored_file["keys"]) == 1

    # With the default grace, a freshly replaced key is not retired.
    settings2 = vault_settings(tmp_path / "second", nats_server.url, db_url_factory("sharing2"))
    async with httpx.AsyncClient(timeout=15) as http, running_vault(settings2, http) as vault:
        old_kid = vault.keys.active().public_view()["kid"]
        await vault.admin_call("POST", "/v1/admin/vault/sealing-keys/rotate", json={})
        early = await vault.admin_call("POST", f"/v1/admin/vault/sealing-keys/{old_kid}/retire")
        assert early.status_code == 409 and "retire it after 900 s" in early.json()["detail"]


async def test_a_sealing_key_intake_still_seals_to_is_not_retired(
    nats_server: NatsServer,
    db_url_factory,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    grace = 2.0
    settings = vault_settings(
        tmp_path, nats_server.url, db_url_factory("sharing"), sealing_key_retire_grace_s=grace
    )
    async with httpx.AsyncClient(timeout=15) as http, running_vault(settings, http) as vault:
        a = await vault.client("reports:read")
        old = vault.keys.active()
        old_public, old_kid = old.key.public_key, old.public_view()["kid"]
        await vault.admin_call("POST", "/v1/admin/vault/sealing-keys/rotate", json={})
        rotated_at = time.monotonic()
        await asyncio.sleep(grace / 2)
        # An intake that was never pinned to the new key goes on sealing to the old one.
        late, event = vault.event(a.partner_id, seal_key=old_public)
        await vault.publish(event)
        await vault.stored(late)
        await asyncio.sleep(max(0.0, rotated_at + grace + 0.1 - time.monotonic()))
        path = f"/v1/admin/vault/sealing-keys/{old_kid}/retire"
        refused = await vault.admin_call("POST", path)
        assert refused.status_code == 409, refused.text
        assert "pin the new key in every intake" in refused.json()["detail"]
        await asyncio.sleep(grace)  # a quiet grace period: nothing sealed to it any more
        retired = await vault.admin_call("POST", path)
        assert retired.status_code == 200, retired.text
        await _all_readable(vault, a, [late])


async def test_the_retire_grace_runs_on_sharings_clock(
    nats_server: NatsServer,
    db_url_factory,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    clock = FakeClock()
    settings = vault_settings(tmp_path, nats_server.url, db_url_factory("sharing"))
    async with (
        httpx.AsyncClient(timeout=15) as http,
        running_vault(settings, http, clock=clock) as vault,
    ):
        old_kid = vault.keys.active().kid
        await vault.admin_call("POST", "/v1/admin/vault/sealing-keys/rotate", json={})
        path = f"/v1/admin/vault/sealing-keys/{old_kid}/retire"
        early = await vault.admin_call("POST", path)
        assert early.status_code == 409 and "retire it after 900 s" in early.json()["detail"]
        clock.advance(901)  # the default grace passes without waiting for it
        retired = await vault.admin_call("POST", path)
        assert retired.status_code == 200, retired.text
        assert old_kid not in [k["kid"] for k in vault.keys.public_keys()]
