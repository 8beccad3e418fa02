"""Report files as partners' programs write them: Excel's CSV on a Russian Windows, an XLSX
workbook (openpyxl), an ODS document (the XML LibreOffice writes), Excel's "Unicode Text"."""

from __future__ import annotations

import io
import zipfile
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import escape

from openpyxl import Workbook

HEADER = (
    "client_report_id",
    "incident_type",
    "legal_basis",
    "occurred_at",
    "country",
    "locality",
    "facility_kind",
    "tlp",
    "charges",
    "detaining_authority",
    "narrative",
    "person_name",
    "person_dob",
)


def rows(prefix: str = "ex") -> list[tuple[Any, ...]]:
    """Two reports in Russian, with the charges as Russian and Belarusian codes write them."""
    return [
        (
            f"{prefix}-1",
            "detention",
            "cis_interstate_search",
            date(2026, 11, 20),
            "KG",
            "Бишкек",
            "airport",
            "AMBER",
            "RU:CC:ч. 2 ст. 280.3",
            "Пограничная служба, аэропорт Манас",
            "Задержан на паспортном контроле;  родственники не знают, где он",
            "Лев Скорякин",
            date(1999, 3, 14),
        ),
        (
            f"{prefix}-2",
            "detention",
            "cis_interstate_search",
            date(2026, 11, 18),
            "GE",
            "Тбилиси",
            "airport",
            "GREEN",
            "BY:CC:361-1;BY:CC:ст. 342 ч. 1",
            "Пограничная полиция",
            'Задержана при въезде, "по запросу МВД"',
            "Алеся Смирнова",
            1990,
        ),
    ]


def _text(value: Any) -> str:
    if isinstance(value, date):
        return value.strftime("%d.%m.%Y")  # as a Russian Excel writes a date cell
    return str(value)


def _quoted(cell: str, delimiter: str) -> str:
    if any(c in cell for c in (delimiter, '"', "\n")):
        return '"' + cell.replace('"', '""') + '"'
    return cell


def delimited(delimiter: str, encoding: str, prefix: str = "ex") -> bytes:
    """The rows as delimited text: CRLF, quotes only where a cell needs them."""
    lines = [delimiter.join(HEADER)]
    lines += [delimiter.join(_quoted(_text(v), delimiter) for v in r) for r in rows(prefix)]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def excel_csv(prefix: str = "ex") -> bytes:
    """Excel's semicolon-separated CSV on a Russian Windows: cp1251, `;`, no byte-order mark."""
    return delimited(";", "cp1251", prefix)


def unicode_text(prefix: str = "ex") -> bytes:
    """Excel's "Unicode Text": UTF-16 LE with its byte-order mark, tab-separated."""
    return delimited("\t", "utf-16", prefix)


def xlsx(prefix: str = "ex") -> bytes:
    """A workbook as openpyxl writes it: dates as date cells, a year as a number."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Отчёты"
    sheet.append(HEADER)
    for r in rows(prefix):
        sheet.append([datetime(v.year, v.month, v.day) if isinstance(v, date) else v for v in r])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _ods_cell(value: Any) -> str:
    if isinstance(value, date):
        return (
            f'<table:table-cell office:value-type="date" office:date-value="{value.isoformat()}">'
            f"<text:p>{value.strftime('%d.%m.%Y')}</text:p></table:table-cell>"
        )
    if isinstance(value, int):
        return (
            f'<table:table-cell office:value-type="float" office:value="{value}">'
            f"<text:p>{value}</text:p></table:table-cell>"
        )
    # LibreOffice writes a run of spaces as one space and <text:s text:c="n-1"/>.
    body = escape(str(value)).replace("  ", ' <text:s text:c="1"/>')
    # A comment on the cell (LibreOffice's annotation) is not part of its value.
    note = "<office:annotation><text:p>checked by phone</text:p></office:annotation>"
    return (
        f'<table:table-cell office:value-type="string">{note}<text:p>{body}</text:p>'
        "</table:table-cell>"
    )


def ods(prefix: str = "ex") -> bytes:
    """An ODS document as LibreOffice Calc saves it (one sheet, trailing empty rows repeated)."""
    table_rows = [
        "<table:table-row>" + "".join(_ods_cell(h) for h in HEADER) + "</table:table-row>"
    ]
    table_rows += [
        "<table:table-row>"
        + "".join(_ods_cell(v) for v in r)
        + '<table:table-cell table:number-columns-repeated="1011"/></table:table-row>'
        for r in rows(prefix)
    ]
    table_rows.append(
        '<table:table-row table:number-rows-repeated="1048571">'
        '<table:table-cell table:number-columns-repeated="1024"/></table:table-row>'
    )
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
        ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
        ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3">'
        '<office:body><office:spreadsheet><table:table table:name="Отчёты">'
        '<table:table-column table:number-columns-repeated="1024"/>'
        + "".join(table_rows)
        + "</table:table></office:spreadsheet></office:body></office:document-content>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        # The mimetype comes first and uncompressed, as the OpenDocument packaging requires.
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
        archive.writestr(
            "META-INF/manifest.xml",
            '<?xml version="1.0" encoding="UTF-8"?><manifest:manifest'
            ' xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
            ' manifest:version="1.3"><manifest:file-entry manifest:full-path="/"'
            ' manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
            '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
            "</manifest:manifest>",
            compress_type=zipfile.ZIP_DEFLATED,
        )
    return out.getvalue()
