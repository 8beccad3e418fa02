"""Charge articles in the forms their codes use, one stored form, and readable refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from libs.common.reports import Charge, ReportIn
from libs.common.reports.charges import REFUSAL, canonical_article
from libs.common.reports.fields import CATALOGUE

VECTORS = json.loads((Path(__file__).parents[2] / "vectors" / "charge-articles.json").read_text())


@pytest.mark.parametrize(("written", "stored"), VECTORS["accepted"])
def test_each_written_form_is_stored_in_one_form(written: str, stored: str) -> None:
    assert canonical_article(written) == stored
    assert Charge(state="RU", article=written).article == stored
    assert canonical_article(stored) == stored  # the stored form reads back as itself


@pytest.mark.parametrize("written", VECTORS["refused"])
def test_a_refusal_says_which_forms_are_accepted(written: str) -> None:
    with pytest.raises(ValueError, match=r"^not a charge article: expected forms like"):
        canonical_article(written)
    with pytest.raises(ValidationError) as caught:
        Charge(state="RU", article=written)
    (error,) = caught.value.errors()
    # The message as a partner reads it in intake's 422 and in the CLI: no regex in it.
    assert error["msg"] == REFUSAL and error["loc"] == ("article",)
    assert "^" not in error["msg"] and "[0-9]" not in error["msg"]


def test_a_report_stores_the_normalised_article() -> None:
    body = CATALOGUE.example() | {
        "charges": [
            {"state": "BY", "article": "ч. 1 ст. 361-1"},
            {"state": "RU", "article": "361¹"},
        ]
    }
    body["subject"] = {"tokens": [{"kind": "name", "version": 1, "value": "A" * 43}]}
    report = ReportIn.model_validate(body)
    assert [c.article for c in report.charges] == ["361-1(1)", "361-1"]  # type: ignore[attr-defined]


def test_a_csv_cell_of_charges_takes_the_written_forms() -> None:
    from_csv = CATALOGUE.by_name["charges"].from_csv
    charges = from_csv("RU:CC:ч. 2 ст. 280.3; BY:CC:art. 361-1 ;RU:205.2(2)")
    assert [Charge.model_validate(c).article for c in charges] == ["280.3(2)", "361-1", "205.2(2)"]


def test_a_non_string_article_is_refused_as_a_type() -> None:
    with pytest.raises(ValidationError, match="valid string"):
        Charge(state="RU", article=280)  # type: ignore[arg-type]


def test_the_help_text_names_the_forms_and_the_stored_form() -> None:
    help_text = CATALOGUE.by_name["charges"].help
    for form in ("361-1", "205.2(2)", "ч. 2 ст. 280.3", "280.3(2)"):
        assert form in help_text
