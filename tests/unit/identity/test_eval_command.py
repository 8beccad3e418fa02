"""`lifeline identity eval`: decisions from tokens only, figures per class, clear errors."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from libs.common.errors import InvalidInput
from libs.common.identity.evaluation import read_pairs
from lifeline.cli import identity
from lifeline.cli.base import CliError

PAIRS = [
    {"id": "p1", "class": "P1_cyrillic_vs_latin", "same_person": True,
     "a": {"name": "Лев Скорякин", "dob": "1999-03-14"},
     "b": {"name": "SKORIAKIN LEV", "dob": "1999-03-14"}},
    {"id": "p3", "class": "P3_typo", "same_person": True,
     "a": {"name": "Lev Skoryakin", "dob": "1999-03-14"},
     "b": {"name": "Lev Skorajkin", "dob": "1999-03-14"}},
    {"id": "p5", "class": "P5_year_only_dob", "same_person": True,
     "a": {"name": "Lev Skoryakin", "dob": "1999-03-14"},
     "b": {"name": "Lev Skoryakin", "dob": "1999"}},
    {"id": "n1", "class": "N1_twin_same_sex", "same_person": False,
     "a": {"name": "Ivan Sidorov", "dob": "1990-05-05"},
     "b": {"name": "Pavel Sidorov", "dob": "1990-05-05"}},
    {"id": "n4", "class": "N4_twin_brother_sister", "same_person": False,
     "a": {"name": "Aleksandr Golubev", "dob": "1978-05-21"},
     "b": {"name": "Aleksandra Golubeva", "dob": "1978-05-21"}},
    {"id": "n6", "class": "N6_random", "same_person": False,
     "a": {"name": "Anna Kaplan", "dob": "1970-01-01"},
     "b": {"name": "Oleg Orlov", "dob": None}},
]  # fmt: skip
EXPECTED = {"p1": "strong", "p3": "possible", "p5": "possible", "n1": "none", "n4": "none"}
EXPECTED["n6"] = "none"


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="lifeline")
    identity.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    return path


def test_eval_writes_decisions_and_prints_only_aggregates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pairs, out = _write(tmp_path / "pairs.jsonl", PAIRS), tmp_path / "decisions.jsonl"
    assert _run(["identity", "eval", "--pairs", str(pairs), "--out", str(out)]) == 0
    decisions = {
        row["id"]: row["decision"] for row in map(json.loads, out.read_text().split("\n")[:-1])
    }
    assert decisions == EXPECTED
    printed = capsys.readouterr().out
    assert "P3_typo" in printed and "recall 100.00%" in printed
    assert "N1-N5" in printed and "Identities tokenised: 12" in printed
    for row in PAIRS:
        for side in ("a", "b"):
            name = row[side]["name"]  # type: ignore[index]
            assert all(word not in printed for word in name.replace(",", " ").split())


def test_labels_never_change_a_decision(tmp_path: Path) -> None:
    flipped = [{**row, "class": "P9_other", "same_person": not row["same_person"]} for row in PAIRS]
    out_a, out_b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    _run(
        [
            "identity",
            "eval",
            "--pairs",
            str(_write(tmp_path / "p.jsonl", PAIRS)),
            "--out",
            str(out_a),
        ]
    )
    _run(
        [
            "identity",
            "eval",
            "--pairs",
            str(_write(tmp_path / "q.jsonl", flipped)),
            "--out",
            str(out_b),
        ]
    )
    assert out_a.read_text() == out_b.read_text()


def test_missing_file_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(CliError, match="cannot read"):
        _run(["identity", "eval", "--pairs", str(tmp_path / "absent.jsonl")])


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(CliError, match="no pairs"):
        _run(["identity", "eval", "--pairs", str(tmp_path / "empty.jsonl")])


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "line 2: not valid JSON"),
        ('["a"]', "line 2: needs a JSON object"),
        ('{"id": "x", "a": {"name": "Lev"}, "b": {"dob": "1999"}}', "line 2: 'b' needs"),
        ('{"id": "x", "a": {"name": "Lev", "dob": 1999}, "b": {"name": "Lev"}}', "'dob' must"),
        ('{"id": "x", "a": {"name": "Lev", "dob": "1999-13-01"}, "b": {"name": "Lev"}}', "dob"),
        ('{"id": "x", "a": {"name": "123"}, "b": {"name": "Lev"}}', "no letters"),
    ],
)
def test_bad_lines_are_reported_by_number_without_content(line: str, message: str) -> None:
    good = json.dumps(PAIRS[0], ensure_ascii=False)
    with pytest.raises(InvalidInput) as exc:
        read_pairs([good, line])
    assert message in exc.value.detail
    assert "Скорякин" not in exc.value.detail


def test_unwritable_out_fails_before_the_run(tmp_path: Path) -> None:
    pairs = _write(tmp_path / "pairs.jsonl", PAIRS)
    with pytest.raises(CliError, match="cannot write"):
        _run(["identity", "eval", "--pairs", str(pairs), "--out", str(tmp_path / "no" / "x")])
