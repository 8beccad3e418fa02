"""How fast `lifeline up` is ready, and the CPU each process spends getting there.

Starts `lifeline up` in a temporary directory (SQLite, local nats-server, free ports) and times
it to its ready line: first on a new data directory (every schema migrated), then again on the
same directory (a restart: the schemas at head). At the ready line it reads the CPU time of the
supervisor and of every process below it from /proc/<pid>/stat, children it has reaped included
(a service's migration child). The machine should be quiet: start-up is CPU-bound, so every
other busy process lengthens it (three networks started together on two cores each take ~15 s).

`--baseline REV` measures another revision's code first (see `bench/compare.py`).

Run: .venv/bin/python bench/startup_bench.py [--runs 3] [--baseline main]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# `--code DIR` (set by `--baseline`, see `bench/compare.py`): another revision's tree.
CODE = sys.argv[sys.argv.index("--code") + 1] if "--code" in sys.argv else None
sys.path.insert(0, CODE or str(Path(__file__).resolve().parent.parent))

from bench.rss_bench import label, tree  # noqa: E402
from tests.support.network import lifeline_up  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of `pid` and of the children it has waited for."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return sum(int(t) for t in fields[11:15]) / TICK  # utime, stime, cutime, cstime


def start(tmp: Path) -> dict[str, float]:
    """One `lifeline up` on `tmp`: seconds to its ready line, CPU seconds per process."""
    env = {"PYTHONPATH": CODE} if CODE else {}
    dist = Path("services/console/web/dist")
    if CODE and not (Path(CODE) / dist).exists():
        # A revision's archive has no console build (`make install` makes it): borrow ours.
        (Path(CODE) / dist).symlink_to(Path(__file__).resolve().parent.parent / dist)
    began = time.monotonic()
    with lifeline_up(tmp, 120, env, ("--ready-timeout", "120")) as net:
        took = {"ready_s": time.monotonic() - began}
        root = net.proc.pid
        for pid in tree(root):
            with contextlib.suppress(OSError):  # gone between the listing and the read
                name = label(pid, root)
                took[name] = took.get(name, 0.0) + cpu_s(pid)
    return took


def main(runs: int) -> list[dict[str, Any]]:
    """`runs` new networks, each started again once; one row per (start, what), ranges."""
    samples: dict[str, list[dict[str, float]]] = {"new": [], "restart": []}
    for _ in range(runs):
        # Outside any checkout: `python -m` puts the working directory first on the children's
        # path, which would run this tree's services under a baseline's supervisor.
        with tempfile.TemporaryDirectory() as tmp, contextlib.chdir(tmp):
            samples["new"].append(start(Path(tmp)))
            samples["restart"].append(start(Path(tmp)))
    rows = []
    for kind, runs_of_kind in samples.items():
        names = sorted({n for s in runs_of_kind for n in s if n != "ready_s"})
        for s in runs_of_kind:
            s["cpu total"] = sum(s.get(n, 0.0) for n in names)
        for what in ["ready_s", *names, "cpu total"]:
            values = [s.get(what, 0.0) for s in runs_of_kind]
            row = {"what": f"{kind}: {what}", "min_s": min(values), "max_s": max(values)}
            rows.append({k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()})
            unit = "s to ready" if what == "ready_s" else "s CPU"
            print(f"{row['what']:<24} {min(values):6.2f}..{max(values):6.2f} {unit}")
    return rows


def emit(rows: list[dict[str, Any]]) -> None:
    """The figures for `make bench`: seconds to ready and CPU seconds, new and restarted."""
    from bench import results  # not in a baseline's tree, and needed only here

    by = {r["what"]: r["max_s"] for r in rows}
    figures = []
    for kind in ("new", "restart"):
        figures.append(
            results.figure(f"lifeline up ready, {kind} data dir", by[f"{kind}: ready_s"], "s")
        )
        figures.append(
            results.figure(
                f"lifeline up CPU to ready, {kind} data dir", by[f"{kind}: cpu total"], "s"
            )
        )
    results.emit("startup", figures)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="new networks started (default 3)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    parser.add_argument("--baseline", metavar="REV", help="measure this revision first, compare")
    parser.add_argument("--code", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline:  # its lines first, then this tree's: the same rows, one above the other
        from bench import compare

        compare.baseline(__file__, args.baseline, ["--runs", str(args.runs)])
    out = main(args.runs)
    if args.json:
        print(json.dumps(out, indent=2))
    if not CODE:
        emit(out)
