"""Report files as partners keep them (JSON, JSON Lines, CSV, XLSX, ODS): parsed into drafts,
locally (`libs.sdk.readers` reads each format).

A draft holds the report without its subject block plus the person's plain name and date of
birth; only `libs.sdk.identity` turns those into tokens, and only the tokens are submitted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from libs.common.errors import LifelineError
from libs.common.identity.canonical import canonical_keys
from libs.common.problems import field_errors
from libs.common.reports import IdentityToken, ReportIn
from libs.common.reports.fields import CATALOGUE
from libs.sdk import readers
from libs.sdk.columns import CSV_COLUMNS, KNOWN_COLUMNS, PERSON_COLUMNS

__all__ = ["CSV_COLUMNS", "PERSON_COLUMNS", "Draft", "Parsed", "Rejection", "parse", "parse_file"]
_PLACEHOLDER = IdentityToken(kind="name", version=1, value="A" * 86)
MAX_ROWS = 100_000


@dataclass
class Draft:
    """One report row, validated, waiting for its identity tokens."""

    row: int
    client_report_id: str
    report: dict[str, Any] = field(repr=False)
    # None for a follow-up without a person: it is about the person of the report it follows.
    person: tuple[str, str | None] | None = field(repr=False)

    def with_tokens(self, tokens: list[IdentityToken]) -> ReportIn:
        """The report to submit: the subject carries tokens only."""
        if self.person is None:
            return ReportIn.model_validate(self.report)
        body = {**self.report, "subject": {**self.report["subject"], "tokens": tokens}}
        return ReportIn.model_validate(body)


@dataclass(frozen=True)
class Rejection:
    """A row that cannot be submitted, and why."""

    row: int
    client_report_id: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Parsed:
    """A file's rows split into drafts and rejections, and how the file was read."""

    drafts: list[Draft]
    rejected: list[Rejection]
    detected: dict[str, str]


def parse(text: str, fmt: str, follows: str | None = None) -> tuple[list[Draft], list[Rejection]]:
    """Rows of a text document in `fmt`, split into drafts and rejections."""
    parsed = parse_file(text.encode(), fmt, follows, encoding="utf-8")
    return parsed.drafts, parsed.rejected


def parse_file(
    data: bytes, fmt: str, follows: str | None = None, *, encoding: str | None = None
) -> Parsed:
    """The bytes of a file in any format of `readers.READERS`, split into drafts and
    rejections; with `follows`, every row that names no earlier report follows up that one.
    The encoding of a text format is detected unless given."""
    table = readers.read(data, fmt, encoding)
    rows = [_from_csv(r) for r in table.rows] if table.tabular else table.rows
    if follows:
        rows = [{**r, "follows": r.get("follows") or follows} for r in rows]
    if len(rows) > MAX_ROWS:
        raise LifelineError(f"at most {MAX_ROWS} reports per file")
    drafts, rejections = [], []
    for number, row in enumerate(rows, start=1):
        try:
            drafts.append(_draft(number, row))
        except _RowError as exc:
            rejections.append(Rejection(number, str(row.get("client_report_id", "")), exc.reasons))
    return Parsed(drafts, rejections, table.detected)


def detect_format(filename: str) -> str:
    """The format implied by a file name."""
    return readers.format_of(filename)


class _RowError(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = tuple(reasons)


def _from_csv(row: dict[str, Any]) -> dict[str, Any]:
    get = {k: str(v or "").strip() for k, v in row.items() if k}
    unknown = sorted(set(get) - KNOWN_COLUMNS)
    out = CATALOGUE.from_csv(get)
    if get.get("person_name") or not get.get("follows"):
        out["person"] = {"name": get.get("person_name", ""), "dob": get.get("person_dob") or None}
        if get.get("person_sex"):
            out["person"]["sex"] = get["person_sex"]
    if unknown:
        out["_unknown_columns"] = unknown
    return out


def _draft(number: int, row: dict[str, Any]) -> Draft:
    if "_bad_json" in row:
        raise _RowError(["not valid JSON"])
    if "_invalid" in row:
        raise _RowError(["a report must be an object"])
    if row.get("_unknown_columns"):
        raise _RowError([f"unknown column {c!r}" for c in row["_unknown_columns"]])
    body = dict(row)
    person = body.pop("person", None)
    if person is None and body.get("follows"):
        return _follow_up(number, body)
    reasons: list[str] = []
    if "subject" in body:
        reasons.append("subject: give `person` (name, dob) instead; tokens are made for you")
    if not isinstance(person, dict) or not str(person.get("name") or "").strip():
        reasons.append("person.name: required")
        person = {"name": "", "dob": None}
    extra = set(person) - {"name", "dob", "sex"}
    reasons += [f"person.{k}: unknown field" for k in sorted(extra)]
    name, dob = str(person.get("name") or ""), person.get("dob")
    if name and not reasons:
        try:
            if not canonical_keys(name, dob if isinstance(dob, str) or dob is None else str(dob)):
                reasons.append("person.name: no usable name")
        except LifelineError as exc:
            reasons.append(f"person: {exc.detail}")
    body["subject"] = {"tokens": [], "sex": person.get("sex", "unknown")}
    try:
        ReportIn.model_validate({**body, "subject": {**body["subject"], "tokens": [_PLACEHOLDER]}})
    except ValidationError as exc:
        reasons += _field_reasons(exc)
    if reasons:
        raise _RowError(reasons)
    return Draft(number, str(body["client_report_id"]), body, (name, dob))


def _field_reasons(exc: ValidationError) -> list[str]:
    """`path: reason` per refused field, in the words the API would use (never the input)."""
    return [f"{f['path']}: {f['reason']}" for f in field_errors(exc.errors(), root="report")]


def _follow_up(number: int, body: dict[str, Any]) -> Draft:
    """A follow-up without a person: the report it follows says who it is about."""
    reasons = ["subject: a follow-up gives no subject"] if "subject" in body else []
    try:
        ReportIn.model_validate(body)
    except ValidationError as exc:
        reasons += _field_reasons(exc)
    if reasons:
        raise _RowError(reasons)
    return Draft(number, str(body["client_report_id"]), body, None)
