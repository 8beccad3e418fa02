"""Report files parse the same in every format, reject bad rows with reasons, keep names local."""

from __future__ import annotations

import argparse
import json

import pytest

from libs.common.reports import IdentityToken
from libs.sdk.report_files import detect_format, parse
from lifeline.cli.report import EXAMPLE, run_template


def _template(fmt: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert run_template(argparse.Namespace(format=fmt)) == 0
    out = capsys.readouterr()
    assert "person_name" in out.err  # every field is explained on stderr
    return out.out


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_template_parses_to_the_same_valid_draft(
    fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    drafts, rejected = parse(_template(fmt, capsys), fmt)
    assert rejected == [] and len(drafts) == 1
    draft = drafts[0]
    assert draft.client_report_id == EXAMPLE["client_report_id"]
    assert draft.person == ("SKORIAKIN LEV", "14.03.1999")
    token = IdentityToken(kind="name_dob", version=1, value="B" * 86)
    report = draft.with_tokens([token])
    assert report.place.country == "KG" and report.charges[0].article == "207.3"
    # The submitted body has tokens and nothing of the person's name or date of birth.
    body = json.dumps(report.model_dump(mode="json"))
    assert "SKORIAKIN" not in body and "1999" not in body


def test_bad_rows_are_rejected_one_by_one_with_reasons() -> None:
    good = {**EXAMPLE, "client_report_id": "ok-1"}
    rows = [
        good,
        {**EXAMPLE, "client_report_id": "bad-country", "place": {"country": "XX"}},
        {**EXAMPLE, "client_report_id": "no-name", "person": {"dob": "1999-03-14"}},
        {**EXAMPLE, "client_report_id": "subject", "subject": {"tokens": []}},
        {**EXAMPLE, "client_report_id": "extra", "name": "Lev"},
    ]
    text = "\n".join(json.dumps(r) for r in rows) + "\n{broken"
    drafts, rejected = parse(text, "jsonl")
    assert [d.client_report_id for d in drafts] == ["ok-1"]
    reasons = {r.client_report_id: " ".join(r.reasons) for r in rejected}
    assert "place.country" in reasons["bad-country"]
    assert "person.name: required" in reasons["no-name"]
    assert "subject" in reasons["subject"]
    assert "name" in reasons["extra"]
    assert reasons[""] == "not valid JSON"


def test_csv_unknown_columns_and_charges() -> None:
    header = "client_report_id,incident_type,occurred_at,country,tlp,person_name,charges,secret\n"
    drafts, rejected = parse(
        header + "c1,detention,2026-11-01,KZ,GREEN,Aida Nurlanovna,RU:CC:280.3;RU:275,x\n", "csv"
    )
    assert drafts == [] and "unknown column 'secret'" in rejected[0].reasons
    header = header.replace(",secret", "")
    drafts, _ = parse(
        header + "c1,detention,2026-11-01,KZ,GREEN,Aida Nurlanovna,RU:CC:280.3;RU:275\n", "csv"
    )
    charges = drafts[0].report["charges"]
    assert charges == [
        {"state": "RU", "code": "CC", "article": "280.3"},
        {"state": "RU", "article": "275"},
    ]


def test_format_comes_from_the_file_name() -> None:
    names = ("a.JSON", "b.jsonl", "c.ndjson", "d.csv", "e.tsv", "f.txt", "g.XLSX", "h.ods")
    assert [detect_format(n) for n in names] == [
        "json",
        "jsonl",
        "jsonl",
        "csv",
        "csv",
        "csv",  # Excel's "Unicode Text": UTF-16, tab-separated
        "xlsx",
        "ods",
    ]
    with pytest.raises(Exception, match="--format json\\|jsonl\\|csv\\|xlsx\\|ods"):
        detect_format("reports.pdf")
