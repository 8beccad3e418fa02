"""Text report files: the encoding found among the plausible ones, CSV's delimiter, JSON rows."""

from __future__ import annotations

import codecs
import csv
import io
import json
from typing import Any

import charset_normalizer

from libs.common.errors import LifelineError
from libs.sdk.columns import KNOWN_COLUMNS

# What partners' machines write: Unicode, then the Cyrillic code pages of Windows (Excel on a
# Russian system), Unix (KOI8-R), DOS (cp866), ISO and old Macs. Detection chooses only among
# these, so a short file is never read as, say, Greek or Turkish.
PLAUSIBLE = ("cp1251", "koi8_r", "cp866", "iso8859_5", "mac_cyrillic")
DELIMITERS = ",;\t|"
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The text of `data` and the encoding it was read in (`encoding` if given)."""
    if encoding:
        return _decode_as(data, encoding), encoding
    for bom, name in _BOMS:
        if data.startswith(bom):
            return _decode_as(data, name), name
    # Before UTF-8: ASCII in UTF-16 is valid UTF-8 too, with a NUL after every character.
    if (wide := _utf16_without_mark(data)) is not None:
        return _decode_as(data, wide), wide
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    best = charset_normalizer.from_bytes(data, cp_isolation=list(PLAUSIBLE)).best()
    if best is None:
        raise LifelineError(
            "cannot tell the file's encoding (tried UTF-8, UTF-16, Windows-1251, KOI8-R, "
            "CP866, ISO-8859-5, Mac Cyrillic): give it with --encoding"
        )
    return str(best), best.encoding


def _decode_as(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except LookupError:
        raise LifelineError(f"unknown encoding {encoding!r}") from None
    except UnicodeDecodeError as exc:
        raise LifelineError(
            f"the file is not valid {encoding} (byte {exc.start}): try another --encoding"
        ) from None


def _utf16_without_mark(data: bytes) -> str | None:
    """UTF-16 without a byte-order mark: mostly-ASCII text has a zero in every other byte,
    after each character in little-endian order, before it in big-endian."""
    sample = data[:512]
    if len(sample) < 4:
        return None
    if sample[1::2].count(0) > len(sample) / 4:
        return "utf-16-le"
    if sample[0::2].count(0) > len(sample) / 4:
        return "utf-16-be"
    return None


def csv_rows(text: str) -> tuple[list[dict[str, str]], str]:
    """The rows of CSV text by lower-cased column name, and the delimiter it uses."""
    delimiter = delimiter_of(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        records = [r for r in reader if any(cell.strip() for cell in r)]
    except csv.Error as exc:
        raise LifelineError(f"not a readable CSV file (line {reader.line_num}): {exc}") from None
    if not records:
        return [], delimiter
    header = [column.strip().lower() for column in records[0]]
    return [dict(zip(header, cells, strict=False)) for cells in records[1:]], delimiter


def delimiter_of(text: str) -> str:
    """The delimiter that splits the header into the most known columns; `csv.Sniffer` (among
    `,;\\t|`) decides when the header names none, and `,` when it cannot."""
    header = text.split("\n", 1)[0]
    score = {d: sum(_column(c) in KNOWN_COLUMNS for c in header.split(d)) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: score[d])
    if score[best]:
        return best
    try:
        return csv.Sniffer().sniff(text[:8192], delimiters=DELIMITERS).delimiter
    except csv.Error:
        return ","


def _column(cell: str) -> str:
    return cell.strip().strip('"').strip().lower()


def json_rows(text: str) -> list[dict[str, Any]]:
    """A JSON list of reports (or `{"reports": [...]}`); a non-object entry is marked invalid."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LifelineError(f"not valid JSON (line {exc.lineno})") from None
    rows = doc if isinstance(doc, list) else doc.get("reports") if isinstance(doc, dict) else None
    if not isinstance(rows, list):
        raise LifelineError('a JSON file holds a list of reports (or {"reports": [...]})')
    return [_object(r) for r in rows]


def jsonl_rows(text: str) -> list[dict[str, Any]]:
    """One report per line; a broken line rejects that row only."""
    return [_jsonl_row(line) for line in text.splitlines() if line.strip()]


def _jsonl_row(line: str) -> dict[str, Any]:
    try:
        return _object(json.loads(line))
    except json.JSONDecodeError:
        return {"_bad_json": True}


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {"_invalid": True}
