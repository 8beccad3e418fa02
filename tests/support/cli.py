"""Run the `lifeline` CLI as a user would, from tests of the whole network."""

from __future__ import annotations

import asyncio
import json
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
