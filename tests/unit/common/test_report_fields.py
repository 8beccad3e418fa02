"""The field catalogue: one entry per field, from which the model, CSV, template and docs derive."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from pydantic import ValidationError

from libs.common.reports import ReportIn, fields, model
from libs.common.reports.vocabulary import Line
from libs.sdk.report_files import CSV_COLUMNS, parse
from tests.support.reports import report_body

DOCS = Path(__file__).resolve().parents[3] / "docs" / "intake.md"
CASE_NUMBER = fields.ReportField(
    "case_number",
    "the partner's own case number",
    "KG-17/2026",
    spec=(Line | None, None),
    since=fields.CATALOGUE_VERSION + 1,
)


def test_the_model_accepts_exactly_the_catalogue() -> None:
    declared = set(ReportIn.model_fields) | {
        f"place.{n}"
        for n in ReportIn.model_fields["place"].annotation.model_fields  # type: ignore[union-attr]
    }
    names = {f.name for f in fields.FIELDS}
    assert names == declared - {"place"}
    with pytest.raises(ValidationError):
        ReportIn.model_validate(report_body(case_number="x"))


def test_grantable_routing_and_csv_views_follow_the_catalogue() -> None:
    assert "client_report_id" not in fields.GRANTABLE and "narrative" in fields.GRANTABLE
    assert {"incident_type", "legal_basis", "place.country", "tlp"} == fields.ROUTING
    assert [c for c, _ in CSV_COLUMNS][: len(fields.csv_columns())] == [
        c for c, _ in fields.csv_columns()
    ]
    assert fields.stored_in(fields.CATALOGUE_VERSION) == frozenset(fields.GRANTABLE)


def test_values_and_nest_round_trip_a_report() -> None:
    body = ReportIn.model_validate(report_body()).model_dump(mode="json")
    values = fields.values_of(body)
    assert set(values) == set(fields.GRANTABLE)
    assert fields.nest(values) == {k: v for k, v in body.items() if k != "client_report_id"}
    withheld = {k: v for k, v in values.items() if k != "narrative"}
    assert "narrative" not in fields.nest(withheld)  # absent, never null


def test_the_example_is_a_valid_report_and_a_valid_csv_row() -> None:
    example = fields.example()
    body = {**example, "subject": {"tokens": report_body()["subject"]["tokens"]}}
    assert ReportIn.model_validate(body).client_report_id == example["client_report_id"]
    row = fields.example_csv_row()
    header = ",".join([*row, "person_name"])
    line = ",".join([_cell(v) for v in row.values()] + ["SKORIAKIN LEV"])
    drafts, rejected = parse(header + "\n" + line + "\n", "csv")
    assert rejected == [] and drafts[0].report["charges"] == example["charges"]


def test_adding_a_field_is_one_entry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fields, "FIELDS", (*fields.FIELDS, CASE_NUMBER))
    _, grown = model.build_models(fields.FIELDS)
    report = grown.model_validate(report_body(case_number="KG-17/2026"))
    assert report.model_dump(mode="json")["case_number"] == "KG-17/2026"
    assert grown.model_validate(report_body()).model_dump()["case_number"] is None
    assert ("case_number", "the partner's own case number") in fields.csv_columns()
    assert "case_number" in fields.markdown_table()


def test_the_docs_table_is_the_catalogue() -> None:
    text = DOCS.read_text()
    start = text.index("<!-- field table: generated from libs/common/reports/fields.py -->\n")
    end = text.index("<!-- end of field table -->")
    table = text[start:end].split("\n", 1)[1]
    assert table == fields.markdown_table(), "regenerate the table from fields.markdown_table()"


def test_a_field_entry_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        CASE_NUMBER.since = 1  # type: ignore[misc]


def _cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value
