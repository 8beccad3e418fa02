"""What every export format starts from: reports as they leave, and an exporter's shape.

An exporter receives report views exactly as a read returns them: only the fields the caller's
policy released, never the subject (its identity tokens stay inside the network).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from libs.common.reports.fields import CATALOGUE, Catalogue

# Identity tokens are for matching inside the network; an export never carries them.
NEVER_EXPORTED = frozenset({"subject"})
# A report whose marking the policy withholds is exported under the strictest one, so no tool
# downstream handles it more loosely than its author may have asked.
WITHHELD_TLP = "RED"


@dataclass(frozen=True)
class ExportedReport:
    """One report as it leaves: ids and times, and its released fields by catalogue name."""

    report_id: str
    partner_id: str
    received_at: str
    updated_at: str
    follows: str | None
    values: dict[str, Any]

    @property
    def tlp(self) -> str:
        """The report's TLP 2.0 marking (RED when the policy withholds it)."""
        return str(self.values.get("tlp") or WITHHELD_TLP)


@dataclass(frozen=True)
class Export:
    """Everything an exporter writes: the reports, the catalogue and when it was made."""

    reports: list[ExportedReport]
    catalogue: Catalogue
    now: datetime


@dataclass(frozen=True)
class Exporter:
    """One format: its media type, file suffix and how an export becomes bytes."""

    media_type: str
    suffix: str
    render: Callable[[Export], bytes]


def exported(view: Mapping[str, Any], catalogue: Catalogue = CATALOGUE) -> ExportedReport:
    """A read's view as an exported report: released fields only, flattened, no subject."""
    values: dict[str, Any] = {}
    for name in catalogue.grantable:
        if name in NEVER_EXPORTED:
            continue
        node: Any = view["report"]
        for part in name.split("."):
            node = node.get(part, _ABSENT) if isinstance(node, Mapping) else _ABSENT
        if node is not _ABSENT:
            values[name] = node
    return ExportedReport(
        report_id=str(view["report_id"]),
        partner_id=str(view["partner_id"]),
        received_at=str(view["received_at"]),
        updated_at=str(view["updated_at"]),
        follows=view.get("follows"),
        values=values,
    )


_ABSENT = object()
