"""Readers of report files, one per format: bytes in, rows out (the registry variants grow in).

A reader of a *tabular* format (CSV, XLSX, ODS) returns one row per line of the sheet, its
cells as text by (lower-cased) column name; the others return report objects as written. Each
says what it found (`detected`: the encoding and delimiter of a CSV file, say) so the summary can
show how the file was read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from libs.common.errors import LifelineError
from libs.sdk.readers import sheets, text


@dataclass(frozen=True)
class Table:
    """What a reader made of a file: its rows and how it read them."""

    rows: list[dict[str, Any]]
    tabular: bool
    detected: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reader:
    """One format: the file-name endings that imply it and how its bytes become rows."""

    suffixes: tuple[str, ...]
    read: Callable[[bytes, str | None], Table]
    help: str


def _records(parse: Callable[[str], list[dict[str, Any]]]) -> Callable[[bytes, str | None], Table]:
    def read(data: bytes, encoding: str | None) -> Table:
        decoded, used = text.decode(data, encoding)
        return Table(parse(decoded), tabular=False, detected={"encoding": used})

    return read


def _csv(data: bytes, encoding: str | None) -> Table:
    decoded, used = text.decode(data, encoding)
    rows, delimiter = text.csv_rows(decoded)
    return Table(rows, tabular=True, detected={"encoding": used, "delimiter": delimiter})


def _sheet(read: Callable[[bytes], list[list[str]]]) -> Callable[[bytes, str | None], Table]:
    def reader(data: bytes, _encoding: str | None) -> Table:
        return Table(sheets.records(read(data)), tabular=True)

    return reader


READERS: dict[str, Reader] = {
    "json": Reader((".json",), _records(text.json_rows), "a JSON list of reports"),
    "jsonl": Reader((".jsonl", ".ndjson"), _records(text.jsonl_rows), "one report per line"),
    "csv": Reader(
        (".csv", ".tsv", ".txt"),
        _csv,
        "columns of `lifeline report template --format csv`; any common encoding and delimiter",
    ),
    "xlsx": Reader((".xlsx", ".xlsm"), _sheet(sheets.xlsx_cells), "an Excel workbook's 1st sheet"),
    "ods": Reader((".ods",), _sheet(sheets.ods_cells), "an OpenDocument spreadsheet's 1st sheet"),
}


def format_of(filename: str) -> str:
    """The format a file name implies."""
    lowered = filename.lower()
    for fmt, reader in READERS.items():
        if lowered.endswith(reader.suffixes):
            return fmt
    raise LifelineError(
        f"cannot tell the format from the file name: use --format {'|'.join(READERS)}"
    )


def read(data: bytes, fmt: str, encoding: str | None = None) -> Table:
    """The rows of a file in format `fmt` (`encoding` overrides detection for text formats)."""
    reader = READERS.get(fmt)
    if reader is None:
        raise LifelineError(f"unknown format {fmt!r}: one of {', '.join(READERS)}")
    return reader.read(data, encoding)
