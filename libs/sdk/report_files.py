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
from libs.common.reports import IdentityToken, ReportIn

# One column per field; `charges` is "STATE:CODE:ARTICLE" items separated by ";".
CSV_COLUMNS: tuple[tuple[str, str], ...] = (
    (
        "client_report_id",
        "your own id for the report (letters, digits, . _ : -); resubmitting it is safe",
    ),
    (
        "incident_type",
        "detention, extradition_request, extradition_decision, deportation, entry_refusal, "
        "residence_revoked, travel_ban, abduction, interrogation, threat_or_attack, release, other",
    ),
    (
        "legal_basis",
        "cis_interstate_search, interpol_red_notice, interpol_diffusion, bilateral_request, "
        "national_security, administrative, no_legal_basis, unknown",
    ),
    ("occurred_at", "YYYY-MM-DD, or a time with its UTC offset: 2026-11-20T06:40:00+06:00"),
    ("country", "where it happened, ISO 3166-1 alpha-2 (KG, KZ, GE, RS, TR ...)"),
    ("locality", "city or place"),
    (
        "facility_kind",
        "airport, border_crossing, police_station, detention_centre, court, consulate, street,"
        " unknown",
    ),
    ("requesting_state", "the state asking for the person, ISO alpha-2 (usually RU or BY)"),
    ("charges", "articles, e.g. RU:CC:207.3;RU:CC:280.3"),
    ("detaining_authority", "who holds the person"),
    ("status", "ongoing, released, extradited, deported, unknown"),
    ("tlp", "sharing marking: CLEAR, GREEN, AMBER, AMBER+STRICT, RED"),
    ("narrative", "what happened (sealed; only partners whose policy allows it can read it)"),
    ("contact_instructions", "how a lawyer should reach you about this case"),
    ("person_name", "the person's name in any script or spelling; NEVER sent, only tokens are"),
    ("person_dob", "date of birth: YYYY-MM-DD, DD.MM.YYYY, YYYY, or empty; NEVER sent"),
    ("person_sex", "female, male or unknown"),
)
_PLACEHOLDER = IdentityToken(kind="name", version=1, value="A" * 86)
MAX_ROWS = 100_000


@dataclass
class Draft:
    """One report row, validated, waiting for its identity tokens."""

    row: int
    client_report_id: str
    report: dict[str, Any] = field(repr=False)
    person: tuple[str, str | None] = field(repr=False)

    def with_tokens(self, tokens: list[IdentityToken]) -> ReportIn:
        """The report to submit: the subject carries tokens only."""
        body = {**self.report, "subject": {**self.report["subject"], "tokens": tokens}}
        return ReportIn.model_validate(body)


@dataclass(frozen=True)
class Rejection:
    """A row that cannot be submitted, and why."""

    row: int
    client_report_id: str
    reasons: tuple[str, ...]


def parse(text: str, fmt: str) -> tuple[list[Draft], list[Rejection]]:
    """Rows of a `json`, `jsonl` or `csv` document, split into drafts and rejections."""
    rows = _rows(text, fmt)
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
    out: dict[str, Any] = {
        k: get[k]
        for k in (
            "client_report_id",
            "incident_type",
            "legal_basis",
            "occurred_at",
            "requesting_state",
            "detaining_authority",
            "status",
            "tlp",
            "narrative",
            "contact_instructions",
        )
        if get.get(k)
    }
    out["place"] = {"country": get.get("country", "")}
    for src, dst in (("locality", "locality"), ("facility_kind", "facility_kind")):
        if get.get(src):
            out["place"][dst] = get[src]
    if get.get("charges"):
        out["charges"] = [_charge(item) for item in get["charges"].split(";") if item.strip()]
    out["person"] = {"name": get.get("person_name", ""), "dob": get.get("person_dob") or None}
    if get.get("person_sex"):
        out["person"]["sex"] = get["person_sex"]
    if unknown:
        out["_unknown_columns"] = unknown
    return out


def _charge(item: str) -> dict[str, str]:
    parts = [p.strip() for p in item.split(":")]
    if len(parts) == 3:
        return {"state": parts[0], "code": parts[1], "article": parts[2]}
    if len(parts) == 2:
        return {"state": parts[0], "article": parts[1]}
    return {"article": item.strip()}


def _draft(number: int, row: dict[str, Any]) -> Draft:
    if "_bad_json" in row:
        raise _RowError(["not valid JSON"])
    if "_invalid" in row:
        raise _RowError(["a report must be an object"])
    if row.get("_unknown_columns"):
        raise _RowError([f"unknown column {c!r}" for c in row["_unknown_columns"]])
    body = dict(row)
    person = body.pop("person", None)
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
        for err in exc.errors():
            path = ".".join(str(p) for p in err["loc"]) or "report"
            reasons.append(f"{path}: {err['msg']}")
    if reasons:
        raise _RowError(reasons)
    return Draft(number, str(body["client_report_id"]), body, (name, dob))
