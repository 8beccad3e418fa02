"""The field catalogue: every field of a report, once, and everything derived from it.

`ReportIn`, the field names a sharing policy can grant, the vault's per-field encryption, the
SDK's CSV columns, `lifeline report template` and the field table in `docs/intake.md` all come
from `FIELDS`. Adding a field is one entry here (with `since` = the next catalogue version);
reports stored before it read that field as absent, never as tampering.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from pydantic import Field

from libs.common.reports.vocabulary import (
    Charge,
    Country,
    FacilityKind,
    IncidentType,
    LegalBasis,
    Line,
    LongText,
    ShortText,
    Status,
    Tlp,
)

JSON = Any


def _text(value: str) -> JSON:
    return value


_DAY_FIRST = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})")


def _occurred(value: str) -> JSON:
    """`20.11.2026` (how a Russian spreadsheet writes a date) -> `2026-11-20`; else as given."""
    match = _DAY_FIRST.fullmatch(value.strip())
    if match is None:
        return value
    day, month, year = match.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}"


def _charges(value: str) -> JSON:
    """`RU:CC:207.3;RU:280.3` -> charge objects (the code defaults to CC)."""
    out = []
    for item in (i.strip() for i in value.split(";")):
        if not item:
            continue
        parts = [p.strip() for p in item.split(":")]
        if len(parts) == 3:
            out.append({"state": parts[0], "code": parts[1], "article": parts[2]})
        elif len(parts) == 2:
            out.append({"state": parts[0], "article": parts[1]})
        else:
            out.append({"article": item})
    return out


def _charges_cell(value: JSON) -> str:
    return ";".join(f"{c['state']}:{c.get('code', 'CC')}:{c['article']}" for c in value or [])


def _choices(enum: Iterable[Any]) -> str:
    return ", ".join(str(e) for e in enum)


@dataclass(frozen=True)
class ReportField:
    """One field of a report: where it sits in the body, its rule, and how each part treats it."""

    name: str  # dotted path in the submitted body, e.g. "place.locality"
    help: str  # one line: the template, the CSV column help and the docs say this
    example: JSON
    # (type, default) of a field declared here; None for the fields `ReportCore` declares
    # itself because code reads them by name (routing, idempotency, the subject's tokens).
    spec: tuple[Any, Any] | None = None
    csv: str | None = ""  # its CSV column ("" = the name itself; None = not a CSV column)
    from_csv: Callable[[str], JSON] = _text
    to_csv: Callable[[JSON], str] = str
    # A clear copy in the vault's row decides policy; it is checked against the sealed value
    # on every read, so relabelling a row in the database is caught.
    routing: bool = False
    # Stored as its own encrypted blob and grantable by policy (not the client's own id).
    grantable: bool = True
    since: int = 1  # the catalogue version that added it

    @property
    def column(self) -> str | None:
        """The CSV column name, if the field has one."""
        return self.name.rpartition(".")[2] if self.csv == "" else self.csv


FIELDS: tuple[ReportField, ...] = (
    ReportField(
        "client_report_id",
        "your own id for the report (letters, digits, . _ : -); resubmitting it is safe",
        "kg-2026-0042",
        grantable=False,
    ),
    ReportField(
        "follows",
        "a follow-up: the report id of your earlier report on the same case (empty: a new case)",
        None,
        to_csv=lambda value: value or "",
        grantable=False,
        since=2,
    ),
    ReportField("incident_type", _choices(IncidentType), "detention", routing=True),
    ReportField("legal_basis", _choices(LegalBasis), "cis_interstate_search", routing=True),
    ReportField(
        "occurred_at",
        "YYYY-MM-DD (in a file also DD.MM.YYYY), or a time with its UTC offset: "
        "2026-11-20T06:40:00+06:00",
        "2026-11-20T06:40:00+06:00",
        from_csv=_occurred,
    ),
    ReportField(
        "place.country",
        "where it happened, ISO 3166-1 alpha-2 (KG, KZ, GE, RS, TR ...)",
        "KG",
        routing=True,
    ),
    ReportField("place.locality", "city or place", "Bishkek", spec=(Line | None, None)),
    ReportField("place.facility_kind", _choices(FacilityKind), "airport"),
    ReportField(
        "requesting_state",
        "the state asking for the person, ISO alpha-2 (usually RU or BY)",
        "RU",
        spec=(Country | None, None),
    ),
    ReportField(
        "charges",
        "articles as STATE:CODE:ARTICLE, `;` between them (RU:CC:207.3;BY:CC:361-1); an article "
        "as its code writes it: 280.3, 361-1, 205.2(2), ч. 2 ст. 280.3, art. 361-1 "
        "(stored as 280.3(2), 361-1)",
        [{"state": "RU", "code": "CC", "article": "207.3"}],
        spec=(list[Charge], Field(default_factory=list, max_length=20)),
        from_csv=_charges,
        to_csv=_charges_cell,
    ),
    ReportField(
        "detaining_authority",
        "who holds the person",
        "Border service, Manas airport",
        spec=(Line | None, None),
    ),
    ReportField("status", _choices(Status), "ongoing", spec=(Status, Status.UNKNOWN)),
    ReportField("tlp", "sharing marking: " + _choices(Tlp), "AMBER", routing=True),
    ReportField(
        "narrative",
        "what happened (sealed; only partners whose policy allows it can read it)",
        "Detained at passport control on arrival from Istanbul.",
        spec=(LongText, ""),
    ),
    ReportField(
        "contact_instructions",
        "how a lawyer should reach you about this case",
        "Call our duty phone; ask for the case number.",
        spec=(ShortText, ""),
    ),
    ReportField(
        "subject",
        "the person: identity tokens made on your machine, never a name",
        {"tokens": [], "sex": "male"},
        csv=None,
    ),
)


@dataclass(frozen=True)
class Catalogue:
    """A set of report fields and every view of them the network needs."""

    fields: tuple[ReportField, ...]

    @cached_property
    def by_name(self) -> Mapping[str, ReportField]:
        """Each field by its dotted name."""
        return {f.name: f for f in self.fields}

    @cached_property
    def version(self) -> int:
        """The newest `since`: what a report stored now records."""
        return max(f.since for f in self.fields)

    @cached_property
    def grantable(self) -> tuple[str, ...]:
        """What a policy can grant and the vault encrypts, one blob each, in catalogue order."""
        return tuple(f.name for f in self.fields if f.grantable)

    @cached_property
    def routing(self) -> frozenset[str]:
        """The fields whose clear copy in the vault's row decides policy."""
        return frozenset(f.name for f in self.fields if f.routing)

    def grown(self, *more: ReportField) -> Catalogue:
        """This catalogue with fields added (what a later version of the code will hold)."""
        return Catalogue((*self.fields, *more))

    def stored_in(self, version: int) -> frozenset[str]:
        """The grantable fields a report stored under catalogue `version` has blobs for."""
        return frozenset(f.name for f in self.fields if f.grantable and f.since <= version)

    def values_of(self, body: Mapping[str, JSON]) -> dict[str, JSON]:
        """The grantable field values of a report body (`model_dump(mode="json")`), by name."""
        out: dict[str, JSON] = {}
        for name in self.grantable:
            value: JSON = body
            for part in name.split("."):
                value = value.get(part) if isinstance(value, Mapping) else None
            out[name] = value
        return out

    def nest(self, values: Mapping[str, JSON]) -> dict[str, JSON]:
        """Values in the shape of a submitted report; a withheld field is absent, not null."""
        out: dict[str, JSON] = {}
        for name in self.by_name:
            if name in values:
                head, _, tail = name.partition(".")
                if tail:
                    out.setdefault(head, {})[tail] = values[name]
                else:
                    out[name] = values[name]
        return out

    def csv_columns(self) -> list[tuple[str, str]]:
        """(column, help) of every field that has a CSV column, in catalogue order."""
        return [(f.column, f.help) for f in self.fields if f.column]

    def from_csv(self, row: Mapping[str, str]) -> dict[str, JSON]:
        """A report body (without its subject) from one CSV row's non-empty cells."""
        body: dict[str, JSON] = {"place": {"country": row.get("country", "")}}
        for f in self.fields:
            cell = row.get(f.column) if f.column else None
            if cell:
                head, _, tail = f.name.partition(".")
                if tail:
                    body.setdefault(head, {})[tail] = f.from_csv(cell)
                else:
                    body[head] = f.from_csv(cell)
        return body

    def example(self) -> dict[str, JSON]:
        """An example report body (subject without tokens) from every field's example."""
        return self.nest({f.name: f.example for f in self.fields})

    def example_csv_row(self) -> dict[str, str]:
        """The example report as one CSV row (the columns of `csv_columns`)."""
        return {f.column: f.to_csv(f.example) for f in self.fields if f.column}

    def markdown_table(self) -> str:
        """The field table of `docs/intake.md` (a test keeps the two identical)."""
        rows = ["| field | CSV column | routing | since | meaning |", "|---|---|---|---|---|"]
        for f in self.fields:
            column = f"`{f.column}`" if f.column else "—"
            routing = "yes" if f.routing else ""
            rows.append(f"| `{f.name}` | {column} | {routing} | {f.since} | {f.help} |")
        return "\n".join(rows) + "\n"


CATALOGUE = Catalogue(FIELDS)
