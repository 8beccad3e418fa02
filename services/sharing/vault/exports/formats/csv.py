"""CSV: one row per report, the columns of the report file format for the released fields."""

from __future__ import annotations

import csv
import io
from typing import Any

from libs.common.reports.fields import ReportField
from services.sharing.vault.exports.formats.base import Export, Exporter

HEADER = ("report_id", "partner_id", "received_at", "updated_at", "follows")
# A cell starting with one of these is a formula to a spreadsheet (OWASP "CSV injection"): a
# compromised partner's narrative must not run when a reader opens the export.
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def render(export: Export) -> bytes:
    """The export as CSV (UTF-8 with a byte-order mark, so Excel reads Cyrillic correctly)."""
    released = {name for r in export.reports for name in r.values}
    fields = [f for f in export.catalogue.fields if f.name in released and f.column]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*HEADER, *(f.column for f in fields)])
    for r in export.reports:
        head = [r.report_id, r.partner_id, r.received_at, r.updated_at, r.follows or ""]
        cells = [_cell(f, r.values.get(f.name)) for f in fields]
        writer.writerow([_safe(c) for c in head + cells])
    return out.getvalue().encode("utf-8-sig")


def _cell(field: ReportField, value: Any) -> str:
    return "" if value is None else field.to_csv(value)


def _safe(cell: str) -> str:
    return "'" + cell if cell.startswith(_FORMULA) else cell


EXPORTER = Exporter(media_type="text/csv; charset=utf-8", suffix="csv", render=render)
