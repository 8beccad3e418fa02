"""Idle memory of the whole embedded network: RSS and PSS per process of `lifeline up`.

Starts `lifeline up` in a temporary directory (SQLite, local nats-server, free ports), waits
for its ready line, lets it settle (`--settle` seconds: start-up work, first relay and janitor
rounds), then reads /proc/<pid>/smaps_rollup of the supervisor and of every process below it
(nats-server, sharing, intake, alerts, console). RSS counts shared pages (the interpreter, libc)
in full in each process; PSS shares them out, so the PSS total is what the network costs the
machine. `--runs` networks are started one after the other; the range over them is printed.

`--baseline REV` measures another revision's code first (see `bench/compare.py`).

Run: .venv/bin/python bench/rss_bench.py [--runs 3] [--settle 10] [--baseline main]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# `--code DIR` (set by `--baseline`, see `bench/compare.py`): another revision's tree.
CODE = sys.argv[sys.argv.index("--code") + 1] if "--code" in sys.argv else None
sys.path.insert(0, CODE or str(Path(__file__).resolve().parent.parent))

from tests.support.network import lifeline_up  # noqa: E402


def _parent(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    return int(stat[stat.rindex(")") + 2 :].split()[1])


def tree(root: int) -> list[int]:
    """`root` and every process below it."""
    parents = {
        int(p.name): _parent(int(p.name)) for p in Path("/proc").iterdir() if p.name.isdigit()
    }
    found, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, ppid in parents.items() if ppid in frontier]
        found += frontier
    return found


def label(pid: int, root: int) -> str:
    """`supervisor`, `nats`, or the service a child runs (`-m services.<name>`)."""
    if pid == root:
        return "supervisor"
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    if b"-m" in argv:
        module = argv[argv.index(b"-m") + 1].decode()
        return module.removeprefix("services.")
    return Path(argv[0].decode()).name.removesuffix("-server")


def memory_kb(pid: int) -> dict[str, int]:
    """`Rss` and `Pss` of a process, in kB (smaps_rollup)."""
    out = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("Rss", "Pss"):
            out[key.lower()] = int(rest.split()[0])
    return out


def measure(settle: float) -> dict[str, dict[str, float]]:
    """One network: MB of RSS and PSS per process once idle."""
    env = {"PYTHONPATH": CODE} if CODE else {}
    dist = Path("services/console/web/dist")
    if CODE and not (Path(CODE) / dist).exists():
        # A revision's archive has no console build (`make install` makes it): borrow ours.
        (Path(CODE) / dist).symlink_to(Path(__file__).resolve().parent.parent / dist)
    # Run outside any checkout: `python -m` puts the working directory first on the children's
    # path, which would run this tree's services under a baseline's supervisor.
    with (
        tempfile.TemporaryDirectory() as tmp,
        contextlib.chdir(tmp),
        lifeline_up(Path(tmp), 120, env, ("--ready-timeout", "120")) as net,
    ):
        time.sleep(settle)
        root = net.proc.pid
        per: dict[str, dict[str, float]] = {}
        for pid in tree(root):
            name = label(pid, root)
            kb = memory_kb(pid)
            # Two processes of one name (a restart mid-run) add up, as the machine sees it.
            row = per.setdefault(name, {"rss": 0.0, "pss": 0.0})
            row["rss"] += kb["rss"] / 1024
            row["pss"] += kb["pss"] / 1024
    return per


def _mb(sample: dict[str, dict[str, float]], name: str, kind: str) -> float:
    if name == "total":
        return sum(row[kind] for row in sample.values())
    return sample[name][kind]


def main(runs: int, settle: float) -> list[dict[str, Any]]:
    """Measure `runs` networks; one row per process (and the total), MB ranges."""
    samples = [measure(settle) for _ in range(runs)]
    names = sorted({n for s in samples for n in s}, key=lambda n: (n != "supervisor", n))
    rows = []
    for name in [*names, "total"]:
        rss = [_mb(s, name, "rss") for s in samples if name == "total" or name in s]
        pss = [_mb(s, name, "pss") for s in samples if name == "total" or name in s]
        rows.append(
            {
                "what": name,
                "rss_mb": round(min(rss), 1),
                "rss_max_mb": round(max(rss), 1),
                "pss_mb": round(min(pss), 1),
                "pss_max_mb": round(max(pss), 1),
            }
        )
        print(
            f"{name:<12} RSS {min(rss):7.1f}..{max(rss):7.1f} MB   PSS {min(pss):7.1f}..{max(pss):7.1f} MB"
        )
    return rows


def emit(rows: list[dict[str, Any]]) -> None:
    """The issue's figure for `make bench`: the network's idle PSS (worst run), RSS beside it."""
    from bench import results  # not in a baseline's tree, and needed only here

    total = next(r for r in rows if r["what"] == "total")
    results.emit(
        "rss",
        [
            results.figure("whole network idle memory (PSS)", total["pss_max_mb"]),
            results.figure(
                "whole network idle RSS (sum)",
                total["rss_max_mb"],
                "MB",
                note="shared pages counted once per process",
            ),
        ],
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="networks started (default 3)")
    parser.add_argument("--settle", type=float, default=10.0, help="idle seconds before reading")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    parser.add_argument("--baseline", metavar="REV", help="measure this revision first, compare")
    parser.add_argument("--code", help=argparse.SUPPRESS)
    args = parser.parse_args()
    common = ["--runs", str(args.runs), "--settle", str(args.settle)]
    if args.baseline:
        from bench import compare

        before = compare.baseline(__file__, args.baseline, common)
    out = main(args.runs, args.settle)
    if args.baseline:
        old = {r["what"]: r for r in before}
        print(f"\n{'':<12} {'RSS before':>11} {'after':>8} {'PSS before':>11} {'after':>8}")
        for row in out:
            was = old.get(row["what"], {})
            print(
                f"{row['what']:<12} {was.get('rss_max_mb', '-'):>11} {row['rss_max_mb']:>8}"
                f" {was.get('pss_max_mb', '-'):>11} {row['pss_max_mb']:>8}"
            )
    if args.json:
        print(json.dumps(out, indent=2))
    if not CODE:
        emit(out)
