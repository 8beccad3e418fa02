"""Run the `lifeline` CLI as a user would, from tests of the whole network."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from tests.support.network import LIFELINE


async def run_cli(env: dict[str, str], *args: str, json_flag: bool = True) -> Any:
    """Run `lifeline … --json`; its parsed output (exit 0 required)."""
    proc = await asyncio.create_subprocess_exec(
        LIFELINE,
        *args,
        *(["--json"] if json_flag else []),
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, (args, out.decode(), err.decode())
    return json.loads(out)


async def keyed_client(
    env: dict[str, str],
    admin: list[str],
    partner: str,
    name: str,
    scopes: tuple[str, ...],
    role: str,
    key_dir: Path,
) -> str:
    """The operator creates a client; it makes its own key in `key_dir`; the operator
    registers it, checking the fingerprint. The client's id."""
    flags = [arg for scope in scopes for arg in ("--scope", scope)]
    client = await run_cli(env, "admin", "client", "create", "--partner", partner, "--name", name,
                           "--role", role, *flags, *admin)  # fmt: skip
    key_file = key_dir / f"{client['id']}.pem"
    keygen = await run_cli(env, "keygen", "--out", str(key_file), "--no-passphrase")
    await run_cli(env, "admin", "key", "create", client["id"], "--public-key",
                  keygen["public_key"], "--expect-fingerprint", keygen["fingerprint"], *admin)  # fmt: skip
    return str(client["id"])
