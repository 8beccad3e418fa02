"""Spreadsheets: the first sheet of an XLSX workbook (openpyxl) or an ODS document (its XML).

ODS is read from its `content.xml` with the standard library: one sheet's cells are a small,
well-specified part of OpenDocument, and the readers on offer either pull a whole dataframe
library (pandas + odfpy) or have not been maintained for years (ezodf, under pyexcel-ods3).
Cells become text as a user typed them: a date cell is `YYYY-MM-DD`, a whole number has no `.0`,
a formula gives the value the spreadsheet last computed (it is never evaluated here).
"""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime, time
from typing import Any
from xml.etree import ElementTree as ET

from libs.common.errors import LifelineError

MAX_ROWS = 100_001  # the header and as many reports as one file may hold
MAX_COLUMNS = 256
MAX_XML = 64 * 1024 * 1024  # an ODS sheet's XML, uncompressed: a zip bomb stops here
ODS_TYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
}


def _q(prefix: str, name: str) -> str:
    return f"{{{_NS[prefix]}}}{name}"


_CELL, _COVERED = _q("table", "table-cell"), _q("table", "covered-table-cell")
_REPEAT_COLUMNS, _P = _q("table", "number-columns-repeated"), _q("text", "p")


def records(cells: list[list[str]]) -> list[dict[str, str]]:
    """Rows by the header's lower-cased column names (the first non-empty row is the header)."""
    rows = [r for r in cells if any(c.strip() for c in r)]
    if not rows:
        return []
    header = [c.strip().lower() for c in rows[0]]
    return [{h: c for h, c in zip(header, r, strict=False) if h} for r in rows[1:]]


def cell_text(value: Any) -> str:
    """A cell's value as the text a report file would hold."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def xlsx_cells(data: bytes) -> list[list[str]]:
    """The first worksheet of an XLSX workbook, cell values as text."""
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        # read_only streams the sheet; data_only takes each formula's cached value.
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise LifelineError("not a readable XLSX workbook") from None
    try:
        sheet = book.worksheets[0]
        out: list[list[str]] = []
        for row in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
            out.append([cell_text(v) for v in row])
            if len(out) > MAX_ROWS:
                raise LifelineError(f"at most {MAX_ROWS - 1} reports per file")
        return out
    finally:
        book.close()


def ods_cells(data: bytes) -> list[list[str]]:
    """The first table of an ODS document, cell values as text."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            if archive.read("mimetype").strip() != ODS_TYPE:
                raise LifelineError("not an OpenDocument spreadsheet")
            if archive.getinfo("content.xml").file_size > MAX_XML:
                raise LifelineError("the spreadsheet is too large")
            content = archive.read("content.xml")
        root = ET.fromstring(content)  # noqa: S314 (no external entities, expansion bounded)
        table = root.find(".//office:spreadsheet/table:table", _NS)
        return [] if table is None else _table_rows(table)
    except (zipfile.BadZipFile, KeyError, ValueError, ET.ParseError):
        raise LifelineError("not a readable ODS spreadsheet") from None


def _table_rows(table: ET.Element) -> list[list[str]]:
    out: list[list[str]] = []
    for row in table.iter(_q("table", "table-row")):
        cells = _row_cells(row)
        # Spreadsheets pad a sheet with one empty row repeated a million times: only rows
        # with content are repeated.
        repeat = int(row.get(_q("table", "number-rows-repeated"), "1")) if any(cells) else 1
        out.extend([cells] * min(repeat, MAX_ROWS))
        if len(out) > MAX_ROWS:
            raise LifelineError(f"at most {MAX_ROWS - 1} reports per file")
    return out


def _row_cells(row: ET.Element) -> list[str]:
    cells: list[str] = []
    empty = 0  # empty cells not yet written: a row's padding to the sheet's width never is
    for cell in row:
        if cell.tag not in (_CELL, _COVERED):
            continue
        repeat = int(cell.get(_REPEAT_COLUMNS, "1"))
        value = _ods_value(cell)
        if not value:
            empty += max(repeat, 0)
            continue
        cells.extend([""] * min(empty, MAX_COLUMNS - len(cells)))
        cells.extend([value] * min(repeat, MAX_COLUMNS - len(cells)))
        empty = 0
        if len(cells) >= MAX_COLUMNS:
            break
    return cells


def _ods_value(cell: ET.Element) -> str:
    kind = cell.get(_q("office", "value-type"))
    if kind == "date":
        stamp = cell.get(_q("office", "date-value"), "")
        return stamp.removesuffix("T00:00:00")
    if kind in ("float", "percentage", "currency"):
        return cell_text(float(cell.get(_q("office", "value"), "0")))
    if kind == "boolean":
        return cell.get(_q("office", "boolean-value"), "")
    # Direct paragraphs only: a cell's comment (office:annotation) holds paragraphs of its own.
    return "\n".join(_text(p) for p in cell if p.tag == _P)


def _text(node: ET.Element) -> str:
    """A paragraph's text with ODS's encoded spaces, tabs and line breaks written out."""
    parts = [node.text or ""]
    for child in node:
        if child.tag == _q("text", "s"):
            parts.append(" " * int(child.get(_q("text", "c"), "1")))
        elif child.tag == _q("text", "tab"):
            parts.append("\t")
        elif child.tag == _q("text", "line-break"):
            parts.append("\n")
        else:
            parts.append(_text(child))
        parts.append(child.tail or "")
    return "".join(parts)
