"""What `lifeline up` says once the network is ready: where each part listens."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

from lifeline.network import Plan


def cli_hint() -> list[str]:
    """How to run `lifeline` from another shell, unless it is on the PATH already."""
    here = Path(sys.executable).parent  # the venv's bin/, where `lifeline` is installed
    found = shutil.which("lifeline")
    if not (here / "lifeline").exists() or (found and Path(found).parent == here):
        return []
    return [
        "Run `lifeline` from another shell: `make shell`, or",
        f'  export PATH="{here}:$PATH"',
    ]


def announce(plan: Plan, seconds: float) -> None:
    """The ready line(s): one JSON object with `--json`/`--json-logs`, else for people."""
    urls = plan.urls  # the parts, then nats
    if plan.json:
        print(
            json.dumps(
                {
                    "event": "ready",
                    "seconds": round(seconds, 2),
                    "urls": urls,
                    "metrics": plan.metrics,
                    "data_dir": plan.data_dir,
                    "sealed": plan.sealed,
                }
            ),
            flush=True,
        )
        return
    lines = [f"Lifeline is up in {seconds:.1f} s (data: {plan.data_dir})"]
    lines += [f"  {name:<8} {url}" for name, url in urls.items()]
    lines.append("Metrics (Prometheus, this machine only):")
    lines += [f"  {name:<8} {url}" for name, url in plan.metrics.items()]
    if plan.sealed:
        lines.append(f"Sealed: unseal with `lifeline unseal --data-dir {plan.data_dir}`.")
    lines += cli_hint()
    lines.append("Press Ctrl-C to stop.")
    print("\n".join(lines), flush=True)
