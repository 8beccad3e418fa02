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


def ranges(pairs: list[tuple[list[dict[str, Any]], list[dict[str, Any]]]]) -> None:
    """Over alternated rounds: each measurement's range before and after (min-max)."""

    def span(rows: list[dict[str, Any]], what: str, key: str) -> str:
        found = [r[key] for r in rows if r["what"] == what and r.get(key) is not None]
        return f"{min(found)}..{max(found)}" if found else "-"

    befores = [row for before, _ in pairs for row in before]
    afters = [row for _, after in pairs for row in after]
    print(f"\n{len(pairs)} rounds, ranges{'':<28} {'before':>16} {'after':>16}")
    for row in pairs[0][1]:
        keys = (
            ["cpu_us"] if "cpu_us" in row else ["value"] if "value" in row else ["p50_ms", "p99_ms"]
        )
        for key in keys:
            what = row["what"]
            print(
                f"{what[:36] + ' ' + key:<44} {span(befores, what, key):>16} {span(afters, what, key):>16}"
            )
