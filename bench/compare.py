"""Before and after in one run: a bench measured against another revision's code, side by side.

`baseline` exports the revision with `git archive` into a scratch directory (the working tree,
the index and the stash are left alone) and runs the same bench script there with `--code DIR`,
which the bench puts first on `sys.path`; its JSON results come back for `side_by_side`.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any


def baseline(script: str, rev: str, argv: list[str]) -> list[dict[str, Any]]:
    """Run `script` with `argv` against the code of `rev`; its printed lines, then its results."""
    root = Path(script).resolve().parent.parent
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "-C", str(root), "archive", rev], check=True, capture_output=True
        ).stdout
        subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
        done = subprocess.run(
            [sys.executable, script, *argv, "--code", tmp, "--json"],
            check=False,
            capture_output=True,
            text=True,
        )
    if done.returncode != 0:
        sys.exit(f"the baseline run failed:\n{done.stderr}")
    out = done.stdout
    print(f"--- {rev} ---\n{out[: out.index(chr(10) + '[')]}\n--- this tree ---")
    results: list[dict[str, Any]] = json.loads(out[out.index("\n[") + 1 :])
    return results


def side_by_side(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> None:
    """One line per measurement: p50 and p99 (ms), CPU (µs) or a value, before and after."""
    old = {r["what"]: r for r in before}
    print(f"\n{'':<44} {'p50 before':>10} {'after':>8} {'p99 before':>10} {'after':>8}")
    for row in after:
        was = old.get(row["what"], {})
        if "cpu_us" in row:
            print(f"{row['what']:<44} {was.get('cpu_us', '-'):>10} {row['cpu_us']:>8}  (µs CPU)")
            continue
        if "value" in row:
            print(
                f"{row['what']:<44} {was.get('value', '-'):>10} {row['value']:>8}  ({row['unit']})"
            )
            continue
        print(
            f"{row['what']:<44} {was.get('p50_ms', '-'):>10} {row['p50_ms']:>8}"
            f" {was.get('p99_ms', '-'):>10} {row['p99_ms']:>8}"
        )
