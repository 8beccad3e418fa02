"""The enrolment round trip from the command line: admin code, device key, confirmation."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
from pathlib import Path

from libs.sdk import fingerprint, load_private_key
from tests.integration.vault.conftest import LIFELINE, Vault, cli, cli_json


async def _device(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`lifeline` on a device that has no client yet: its own empty profile."""
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIFELINE_")}
    env |= {"LIFELINE_PROFILE": str(home / "profile.json"), "XDG_CONFIG_HOME": str(home)}
    return await asyncio.to_thread(
        subprocess.run,
        [LIFELINE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
    )


async def test_a_device_enrols_from_the_command_line(vault: Vault, tmp_path: Path) -> None:
    admin_home = tmp_path / "admin"
    target = await vault.client("reports:read")
    issued = await cli_json(vault, vault.admin, admin_home, "admin", "enrol", target.client_id)
    assert issued["link"].endswith("#code=" + issued["code"])

    device = tmp_path / "device"
    key_path = device / "device.pem"
    enrol = await _device(
        device,
        "enrol",
        "--sharing-url",
        vault.url,
        "--code",
        issued["link"],  # the whole link works as well as the code
        "--key",
        str(key_path),
        "--no-passphrase",
        "--device-name",
        "field laptop",
        "--json",
    )
    assert enrol.returncode == 0, enrol.stderr
    enrolled = json.loads(enrol.stdout)
    key = load_private_key(key_path)
    assert enrolled["fingerprint"] == fingerprint(key) and enrolled["status"] == "pending"
    assert not (device / "profile.json").exists()  # nothing saved before the confirmation

    login = ["login", "--sharing-url", vault.url, "--client-id", target.client_id]
    login += ["--key", str(key_path), "--json"]
    refused = await _device(device, *login)
    assert refused.returncode == 77 and "invalid_client" in refused.stderr

    wrong = await cli(
        vault, vault.admin, admin_home, "admin", "key", "confirm", enrolled["kid"],
        "--fingerprint", fingerprint(vault.admin.key),
    )  # fmt: skip
    assert wrong.returncode == 65 and "HTTP 409" in wrong.stderr

    # The refused key is dead; the device enrols a new one and waits for the confirmation.
    again = await cli_json(vault, vault.admin, admin_home, "admin", "enrol", target.client_id)
    new_key = device / "second.pem"
    waiting = asyncio.create_task(
        _device(
            device,
            "enrol",
            "--sharing-url",
            vault.url,
            "--code",
            again["code"],
            "--key",
            str(new_key),
            "--no-passphrase",
            "--wait",
            "30",
            "--json",
        )
    )
    kid = None
    while kid is None:
        await asyncio.sleep(0.2)
        keys = await vault.admin_call("GET", f"/v1/admin/clients/{target.client_id}/keys")
        kid = next((k["kid"] for k in keys.json() if k["status"] == "pending"), None)
    shown = fingerprint(load_private_key(new_key))
    confirmed = await cli_json(
        vault, vault.admin, admin_home, "admin", "key", "confirm", kid, "--fingerprint", shown
    )
    assert confirmed["status"] == "active" and confirmed["device_name"]
    done = await waiting
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["confirmed"] is True
    profile = json.loads((device / "profile.json").read_text())
    assert profile["client_id"] == target.client_id
    assert profile["key_path"] == str(new_key.resolve())
    signed_in = await _device(device, "login", "--json")
    assert signed_in.returncode == 0, signed_in.stderr

    listed = await cli_json(vault, vault.admin, admin_home, "admin", "enrolments", target.client_id)
    assert sorted(e["status"] for e in listed) == ["used", "used"]
    assert issued["code"] not in json.dumps(listed)


async def test_the_contact_line_from_the_command_line(vault: Vault, tmp_path: Path) -> None:
    partner = await vault.client("reports:read")
    line = "Duty lawyer +49 30 0000 (Signal)"
    home = tmp_path / "admin"
    args = ("admin", "partner", "contact", partner.partner_id, line)
    assert (await cli_json(vault, vault.admin, home, *args))["lawyer_contact"] == line
    bad = await cli(
        vault, vault.admin, home, "admin", "partner", "contact", partner.partner_id, "a\nb"
    )
    assert bad.returncode == 65 and "HTTP 422" in bad.stderr
    shown = await vault.admin_call("GET", f"/v1/admin/partners/{partner.partner_id}")
    assert shown.json()["lawyer_contact"] == line
