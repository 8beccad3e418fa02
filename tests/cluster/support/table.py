"""The run's table: per fault, what was accepted, stored, alerted and delivered, how late, and
how soon things worked again."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from tests.cluster.support.faults import Phase
from tests.cluster.support.load import Sent
from tests.support.receivers import Hit


@dataclass
class Row:
    """One fault's numbers."""

    fault: str
    accepted: int
    stored: int
    lost: int
    duplicated: int
    not_accepted: int
    alerts_expected: int
    alerts_delivered: int
    duplicate_deliveries: int
    worst_latency_s: float | None
    submit_recovery_s: float | None
    webhook_recovery_s: float | None


def _first_after(times: list[float], moment: float) -> float | None:
    later = [t - moment for t in times if t >= moment]
    return round(min(later), 2) if later else None


def rows(phases: list[Phase], sent: list[Sent], vault: Counter[str], hits: list[Hit]) -> list[Row]:
    """One row per phase: reports by when they were submitted, latency by report."""
    created = [h for h in hits if h.payload["type"] == "alert.created"]
    by_label: dict[str, list[Hit]] = {}
    for hit in created:
        by_label.setdefault(str(hit.payload["data"]["label"]), []).append(hit)
    table = []
    for phase in phases:
        mine = [s for s in sent if phase.began <= s.started < phase.until]
        ok = [s for s in mine if s.status in ("accepted", "duplicate")]
        ids = [f"load-{s.n:05d}" for s in ok]
        watched = [s for s in ok if s.label]
        delivered = [s for s in watched if s.label in by_label]
        latencies = [min(h.at for h in by_label[s.label or ""]) - s.started for s in delivered]
        answers = [s.answered for s in ok if s.answered is not None]
        arrivals = [h.at for h in created]
        faulted = phase.ended > phase.began  # the baseline has no fault to recover from
        table.append(
            Row(
                fault=phase.name,
                accepted=len(ok),
                stored=sum(1 for i in ids if vault[i] >= 1),
                lost=sum(1 for i in ids if vault[i] == 0),
                duplicated=sum(vault[i] - 1 for i in ids if vault[i] > 1),
                not_accepted=len(mine) - len(ok),
                alerts_expected=len(watched),
                alerts_delivered=len(delivered),
                duplicate_deliveries=sum(len(by_label[s.label or ""]) - 1 for s in delivered),
                worst_latency_s=round(max(latencies), 2) if latencies else None,
                submit_recovery_s=_first_after(answers, phase.ended) if faulted else None,
                webhook_recovery_s=_first_after(arrivals, phase.ended) if faulted else None,
            )
        )
    return table


HEADER = (
    "| fault | accepted | stored | lost | dup | not accepted | alerts exp | delivered "
    "| dup deliveries | worst submit→webhook s | submit recovery s | webhook recovery s |"
)


def render(table: list[Row]) -> str:
    """A Markdown table."""
    lines = [HEADER, "|" + "---|" * 12]
    for r in table:
        cells = [str(v) if v is not None else "-" for v in asdict(r).values()]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write(path: Path, table: list[Row], extra: dict[str, object]) -> None:
    """The table and the run's totals as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"faults": [asdict(r) for r in table], **extra}, indent=2))
