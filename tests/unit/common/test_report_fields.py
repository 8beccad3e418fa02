"""The field catalogue: one entry per field, from which the model, CSV, template and docs derive."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from pydantic import ValidationError

from libs.common.reports import ReportIn, fields, model
from libs.common.reports.docs import START, with_field_table
from libs.sdk.report_files import CSV_COLUMNS, parse
from tests.support.reports import LATER_FIELD, report_body

DOCS = Path(__file__).resolve().parents[3] / "docs" / "intake.md"


def test_the_model_accepts_exactly_the_catalogue() -> None:
    declared = set(ReportIn.model_fields) | {
        f"place.{n}"
        for n in ReportIn.model_fields["place"].annotation.model_fields  # type: ignore[union-attr]
    }
    names = {f.name for f in fields.FIELDS}
    assert names == declared - {"place"}
    with pytest.raises(ValidationError):
        ReportIn.model_validate(report_body(later_field="x"))


def test_grantable_routing_and_csv_views_follow_the_catalogue() -> None:
    catalogue = fields.CATALOGUE
    assert "client_report_id" not in catalogue.grantable and "narrative" in catalogue.grantable
    assert {"incident_type", "legal_basis", "place.country", "tlp"} == catalogue.routing
    assert [c for c, _ in CSV_COLUMNS][: len(catalogue.csv_columns())] == [
        c for c, _ in catalogue.csv_columns()
    ]
    assert catalogue.stored_in(catalogue.version) == frozenset(catalogue.grantable)
    grown = catalogue.grown(LATER_FIELD)
    assert grown.stored_in(catalogue.version) == frozenset(catalogue.grantable)
    assert "later_field" in grown.stored_in(grown.version)


def test_values_and_nest_round_trip_a_report() -> None:
    body = ReportIn.model_validate(report_body()).model_dump(mode="json")
    values = fields.CATALOGUE.values_of(body)
    assert set(values) == set(fields.CATALOGUE.grantable)
    assert fields.CATALOGUE.nest(values) == {
        k: v for k, v in body.items() if k not in ("client_report_id", "follows")
    }
    withheld = {k: v for k, v in values.items() if k != "narrative"}
    assert "narrative" not in fields.CATALOGUE.nest(withheld)  # absent, never null


def test_the_example_is_a_valid_report_and_a_valid_csv_row() -> None:
    example = fields.CATALOGUE.example()
    body = {**example, "subject": {"tokens": report_body()["subject"]["tokens"]}}
    assert ReportIn.model_validate(body).client_report_id == example["client_report_id"]
    row = fields.CATALOGUE.example_csv_row()
    header = ",".join([*row, "person_name"])
    line = ",".join([_cell(v) for v in row.values()] + ["SKORIAKIN LEV"])
    drafts, rejected = parse(header + "\n" + line + "\n", "csv")
    assert rejected == [] and drafts[0].report["charges"] == example["charges"]


def test_adding_a_field_is_one_entry() -> None:
    catalogue = fields.CATALOGUE.grown(LATER_FIELD)
    _, grown = model.build_models(catalogue)
    report = grown.model_validate(report_body(later_field="KG-17/2026"))
    assert report.model_dump(mode="json")["later_field"] == "KG-17/2026"
    assert grown.model_validate(report_body()).model_dump()["later_field"] is None
    assert (LATER_FIELD.name, LATER_FIELD.help) in catalogue.csv_columns()
    assert "later_field" in catalogue.markdown_table()
    assert catalogue.version == fields.CATALOGUE.version + 1


def test_the_docs_table_is_the_catalogue() -> None:
    text = DOCS.read_text()
    assert with_field_table(text) == text, "run `make docs` to regenerate the field table"
    grown = with_field_table(text, fields.CATALOGUE.grown(LATER_FIELD))
    assert "`later_field`" in grown and grown.count(START) == 1


def test_a_field_entry_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        LATER_FIELD.since = 1  # type: ignore[misc]


def _cell(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value
