"""The figures a bench measured, in a form `make bench` gathers into one table (bench/table.py).

A bench adopts it with one call once it has its numbers; a figure named in `TARGETS` takes its
unit and target from there:

    results.emit("intake", [results.figure("intake POST → JetStream p50 at 100/s", p50_ms,
                                           limit=publish_ack_ms)])

`emit` writes `<dir>/<bench>.json` when `make bench` names a directory in `LIFELINE_BENCH_RESULTS`
(`bench/table.py --run` does), and does nothing otherwise: a bench run by hand prints as before.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

# Where `bench/table.py --run` asks each bench to leave its figures.
RESULTS_DIR = "LIFELINE_BENCH_RESULTS"
# Set by `make bench`: a bench that has a quick size (fewer entries, shorter runs) takes it.
QUICK = "LIFELINE_BENCH_QUICK"


@dataclass(frozen=True)
class Target:
    """What a figure must reach, which bench measures it, and the limit measured beside it."""

    bench: str
    unit: str
    target: float
    higher_is_better: bool = False
    limit_what: str = ""
    limit_unit: str = ""  # when the limit is not in the figure's unit (a ratio's denominator)


# The figures of issue #19's acceptance, in its order: every one is a row of the table, with
# "no figure" until its bench emits it.
TARGETS: dict[str, Target] = {
    "report.received → webhook p99": Target(
        "alerts", "ms", 50.0, limit_what="JetStream publish→fetch→ack + one POST"
    ),
    "intake POST → webhook p99": Target("alerts", "ms", 100.0),
    "alerts CPU per matched report": Target("alerts", "ms", 3.0, limit_what="a non-match"),
    "intake throughput / bare FastAPI": Target(
        "intake",
        "x",
        0.35,
        higher_is_better=True,
        limit_what="bare FastAPI",
        limit_unit="reports/s",
    ),
    "whole-stack CPU per report": Target(
        "intake",
        "ms",
        1.2,
        limit_what="bare FastAPI's CPU per POST, same pace, + the report's cryptography",
    ),
    "intake POST → JetStream p50 at 100/s": Target(
        "intake", "ms", 3.0, limit_what="bare FastAPI POST answered, same pace"
    ),
    "vault read of one report p50": Target("vault", "ms", 3.0, limit_what="one-row transaction"),
    "vault page of 50 p50": Target("vault", "ms", 20.0, limit_what="one-row transaction"),
    "whole network idle memory (PSS)": Target("rss", "MB", 350.0),
}


@dataclass(frozen=True)
class Figure:
    """One measured figure, its target (None: reported only) and the limit measured beside it.

    `higher_is_better` flips the comparison (a throughput ratio, not a latency).
    """

    what: str
    measured: float
    unit: str
    target: float | None = None
    limit: float | None = None
    limit_what: str = ""
    higher_is_better: bool = False
    note: str = ""
    limit_unit: str = ""  # the limit's unit when it is not the figure's

    def passed(self) -> bool | None:
        """True or False against the target; None without one."""
        if self.target is None:
            return None
        if self.higher_is_better:
            return self.measured >= self.target
        return self.measured <= self.target


def figure(
    what: str,
    measured: float,
    unit: str = "",
    *,
    limit: float | None = None,
    note: str = "",
) -> Figure:
    """A figure; one named in `TARGETS` gets its unit, target and limit's name from there."""
    known = TARGETS.get(what)
    if known is None:
        return Figure(what, measured, unit, limit=limit, note=note)
    return Figure(
        what,
        measured,
        known.unit,
        known.target,
        limit,
        known.limit_what,
        known.higher_is_better,
        note,
        known.limit_unit,
    )


def quick() -> bool:
    """True when the bench should take its quick size (`make bench`)."""
    return os.environ.get(QUICK, "") not in ("", "0")


def emit(bench: str, figures: list[Figure]) -> None:
    """Leave `figures` for the table of this run (nothing when no table is being made)."""
    where = os.environ.get(RESULTS_DIR)
    if not where:
        return
    path = Path(where) / f"{bench}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([asdict(f) for f in figures], indent=2, ensure_ascii=False))


def load(path: Path) -> list[Figure]:
    """The figures one bench left."""
    rows: list[dict[str, Any]] = json.loads(path.read_text())
    return [Figure(**row) for row in rows]
