"""`make bench`: run every bench one after the other, then print one table of their figures.

Each bench runs as it would by hand (its own output passes through), with
`LIFELINE_BENCH_RESULTS` naming a scratch directory where it leaves its figures
(`bench/results.py`). The table has a row for every figure of issue #19 (`results.TARGETS`):
measured, target, the limit measured in the same run, pass or FAIL; "no figure" where the bench
emits none (yet) or failed. Figures a bench emits beyond those follow, then benches that ran
without leaving any figure.

With `--quick` (the default of `make bench`) each bench takes a quick size (`QUICK_ARGS`, and
`LIFELINE_BENCH_QUICK=1` for those that read it); `make bench BENCH_FULL=1` runs the full sizes
each bench documents (alerts: 100,000 entries, 1,000 reports; backup: 10,000 reports).

    .venv/bin/python bench/table.py --run [--quick] bench/*_bench.py
    .venv/bin/python bench/table.py DIR      # the table of figures left in DIR
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import results

# Smaller sizes for `--quick`: minutes in all rather than most of an hour.
QUICK_ARGS: dict[str, list[str]] = {
    "alerts": ["--entries", "20000", "--reports", "200"],
    "backup": ["--reports", "500"],
    "channels": ["--reports", "10"],
    "intake": ["--seconds", "5"],
    "rss": ["--runs", "2", "--settle", "5"],
    "startup": ["--runs", "2"],
    "vault": ["--n", "300"],
}


def bench_name(script: Path) -> str:
    """`bench/vault_bench.py` → `vault`: the name a bench emits its figures under."""
    return script.name.removesuffix(".py").removesuffix("_bench")


def run_all(scripts: list[Path], out: Path, *, quick: bool) -> dict[str, int]:
    """Run each bench in turn; their exit statuses by name."""
    env = {**os.environ, results.RESULTS_DIR: str(out)}
    if quick:
        env[results.QUICK] = "1"
    statuses = {}
    for script in scripts:
        name = bench_name(script)
        argv = [sys.executable, str(script), *(QUICK_ARGS.get(name, []) if quick else [])]
        print(f"== {script} {' '.join(argv[2:])}", flush=True)
        started = time.monotonic()
        statuses[name] = subprocess.run(argv, env=env, check=False).returncode
        print(f"== {script}: exit {statuses[name]}, {time.monotonic() - started:.0f} s", flush=True)
    return statuses


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"


def rows(out: Path, statuses: dict[str, int]) -> list[tuple[str, str, str, str, str]]:
    """(figure, measured, target, limit, verdict) for the table."""
    found = {p.stem: results.load(p) for p in sorted(out.glob("*.json"))}
    by_name = {f.what: f for figures in found.values() for f in figures}
    table = []

    def missing(bench: str) -> str:
        status = statuses.get(bench)
        if status:
            return f"no figure ({bench} bench failed: exit {status})"
        return "no figure" if bench in statuses or not statuses else f"no figure ({bench} not run)"

    for what, target in results.TARGETS.items():
        cmp = "≥" if target.higher_is_better else "≤"
        goal = f"{cmp} {_num(target.target)} {target.unit}"
        fig = by_name.pop(what, None)
        if fig is None:
            table.append((what, "-", goal, "-", missing(target.bench)))
            continue
        table.append((what, f"{_num(fig.measured)} {fig.unit}", goal, _limit(fig), _verdict(fig)))
    for fig in by_name.values():
        goal = "-" if fig.target is None else f"≤ {_num(fig.target)} {fig.unit}"
        table.append(
            (fig.what, f"{_num(fig.measured)} {fig.unit}", goal, _limit(fig), _verdict(fig))
        )
    claimed = {t.bench for t in results.TARGETS.values()} | set(found)
    for bench in statuses:
        if bench not in claimed:
            table.append((f"({bench} bench)", "-", "-", "-", missing(bench)))
    return table


def _limit(fig: results.Figure) -> str:
    if fig.limit is None:
        return "-"
    value = f"{_num(fig.limit)} {fig.limit_unit or fig.unit}"
    return f"{value} ({fig.limit_what})" if fig.limit_what else value


def _verdict(fig: results.Figure) -> str:
    passed = fig.passed()
    verdict = "-" if passed is None else "pass" if passed else "FAIL"
    return f"{verdict} ({fig.note})" if fig.note else verdict


def print_table(table: list[tuple[str, str, str, str, str]]) -> None:
    """Aligned columns, one row per figure."""
    head = ("figure", "measured", "target", "limit (same run)", "result")
    widths = [max(len(r[i]) for r in [head, *table]) for i in range(len(head))]
    print()
    for row in [head, tuple("-" * w for w in widths), *table]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path, help="bench scripts (--run), or a DIR")
    parser.add_argument("--run", action="store_true", help="run the benches first")
    parser.add_argument("--quick", action="store_true", help="each bench's quick size")
    args = parser.parse_args()
    if not args.run:
        print_table(rows(args.paths[0], {}))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        statuses = run_all(args.paths, Path(tmp), quick=args.quick)
        print_table(rows(Path(tmp), statuses))
    return 1 if any(statuses.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
