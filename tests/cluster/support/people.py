"""Who uses the network, set up as an operator does (the `lifeline` CLI of the checkout): an
NGO that reports and a lawyer who watches clients and gets webhooks."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from libs.sdk import load_private_key
from tests.cluster.support.procs import clean_env, venv_bin
from tests.support.auth import role_for

LAWYER_SCOPES = ("watchlist:manage", "alerts:read", "alerts:ack")


@dataclass
class Client:
    """An API client: its id and private key file."""

    client_id: str
    key_file: Path

    def key(self) -> Any:
        """The loaded private key."""
        return load_private_key(self.key_file)


async def cli(env: dict[str, str], *args: str) -> Any:
    """Run `lifeline … --json` of the checkout; its parsed output (exit 0 required)."""
    proc = await asyncio.create_subprocess_exec(
        venv_bin("lifeline"),
        *args,
        "--json",
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, (args[:3], out.decode()[-2000:], err.decode()[-2000:])
    return json.loads(out)


async def _client(
    env: dict[str, str], admin: list[str], partner: str, name: str, scopes: tuple[str, ...]
) -> Client:
    flags = [arg for scope in scopes for arg in ("--scope", scope)]
    made = await cli(env, "admin", "client", "create", "--partner", partner, "--name", name,
                     "--role", role_for(scopes), *flags, *admin)  # fmt: skip
    key_file = Path(env["XDG_CONFIG_HOME"]) / f"{made['id']}.pem"
    keygen = await cli(env, "keygen", "--out", str(key_file), "--no-passphrase")
    await cli(env, "admin", "key", "create", made["id"], "--public-key", keygen["public_key"],
              "--expect-fingerprint", keygen["fingerprint"], *admin)  # fmt: skip
    return Client(str(made["id"]), key_file)


async def make_people(tmp: Path, sharing_url: str, sharing_dir: Path) -> tuple[Client, Client]:
    """The operator's first admin, two partners, and their clients: (NGO, lawyer)."""
    env = clean_env()
    env["XDG_CONFIG_HOME"] = str(tmp / "config")
    admin = ["--profile", str(tmp / "admin.json")]
    await cli(env, "admin", "init", "--sharing-url", sharing_url, "--data-dir",
              str(sharing_dir), "--no-passphrase", *admin)  # fmt: skip
    bar = await cli(env, "admin", "partner", "create", "Tbilisi Bar", *admin)
    ngo = await cli(env, "admin", "partner", "create", "Bishkek Legal Aid", *admin)
    lawyer = await _client(env, admin, bar["id"], "lawyer app", LAWYER_SCOPES)
    reporter = await _client(env, admin, ngo["id"], "case tool", ("reports:submit",))
    return reporter, lawyer
