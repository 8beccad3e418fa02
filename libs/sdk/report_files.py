"""Report files as partners keep them (JSON, JSON Lines, CSV): parsed into drafts, locally.

A draft holds the report without its subject block plus the person's plain name and date of
birth; only `libs.sdk.identity` turns those into tokens, and only the tokens are submitted.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from libs.common.errors import LifelineError
from libs.common.identity.canonical import canonical_keys
from libs.common.problems import field_errors
from libs.common.reports import IdentityToken, ReportIn
from libs.common.reports.fields import CATALOGUE

# One column per catalogue field (`charges` is "STATE:CODE:ARTICLE" items separated by ";"),
# then the person, who never leaves this machine: only tokens made from these are sent.
PERSON_COLUMNS: tuple[tuple[str, str], ...] = (
    ("person_name", "the person's name in any script or spelling; NEVER sent, only tokens are"),
    ("person_dob", "date of birth: YYYY-MM-DD, DD.MM.YYYY, YYYY, or empty; NEVER sent"),
    ("person_sex", "female, male or unknown"),
)
CSV_COLUMNS: tuple[tuple[str, str], ...] = (*CATALOGUE.csv_columns(), *PERSON_COLUMNS)
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


def parse(text: str, fmt: str, follows: str | None = None) -> tuple[list[Draft], list[Rejection]]:
    """Rows of a `json`, `jsonl` or `csv` document, split into drafts and rejections; with
    `follows`, every row that names no earlier report follows up that one."""
    rows = _rows(text, fmt)
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
    return drafts, rejections


def detect_format(filename: str) -> str:
    """The format implied by a file name."""
    lowered = filename.lower()
    for suffix, fmt in (
        (".jsonl", "jsonl"),
        (".ndjson", "jsonl"),
        (".csv", "csv"),
        (".json", "json"),
    ):
        if lowered.endswith(suffix):
            return fmt
    raise LifelineError("cannot tell the format from the file name: use --format json|jsonl|csv")


class _RowError(Exception):
    def __init__(self, reasons: list[str]) -> None:
        super().__init__("; ".join(reasons))
        self.reasons = tuple(reasons)


def _rows(text: str, fmt: str) -> list[dict[str, Any]]:
    try:
        if fmt == "json":
            doc = json.loads(text)
            rows = (
                doc
                if isinstance(doc, list)
                else doc.get("reports")
                if isinstance(doc, dict)
                else None
            )
            if not isinstance(rows, list):
                raise LifelineError('a JSON file holds a list of reports (or {"reports": [...]})')
            return [r if isinstance(r, dict) else {"_invalid": True} for r in rows]
        if fmt == "jsonl":
            return [_jsonl_row(line) for line in text.splitlines() if line.strip()]
        if fmt == "csv":
            return [_from_csv(r) for r in csv.DictReader(io.StringIO(text))]
    except json.JSONDecodeError as exc:
        raise LifelineError(f"not valid JSON (line {exc.lineno})") from None
    raise LifelineError(f"unknown format {fmt!r}")


def _jsonl_row(line: str) -> dict[str, Any]:
    # One broken line rejects that row only; the rest of the file still goes through.
    try:
        return _object(json.loads(line))
    except json.JSONDecodeError:
        return {"_bad_json": True}


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {"_invalid": True}


def _from_csv(row: dict[str, str | None]) -> dict[str, Any]:
    get = {k: (v or "").strip() for k, v in row.items() if k}
    unknown = sorted(set(get) - {name for name, _ in CSV_COLUMNS})
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
