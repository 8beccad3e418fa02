"""Report files as partners' programs write them: every format read into the same drafts."""

from __future__ import annotations

import codecs

import pytest

from libs.common.errors import LifelineError
from libs.sdk.readers import text
from libs.sdk.report_files import parse_file
from tests.support import spreadsheets

EXPECTED = {
    "ex-1": {
        "occurred_at": "2026-11-20",
        "locality": "Бишкек",
        "charges": [{"state": "RU", "code": "CC", "article": "280.3(2)"}],
        "person": ("Лев Скорякин", "1999-03-14"),
    },
    "ex-2": {
        "occurred_at": "2026-11-18",
        "locality": "Тбилиси",
        "charges": [
            {"state": "BY", "code": "CC", "article": "361-1"},
            {"state": "BY", "code": "CC", "article": "342(1)"},
        ],
        "person": ("Алеся Смирнова", "1990"),
    },
}


def _check(data: bytes, fmt: str, **kwargs: str) -> dict[str, str]:
    parsed = parse_file(data, fmt, **kwargs)
    assert parsed.rejected == [], parsed.rejected
    assert [d.client_report_id for d in parsed.drafts] == ["ex-1", "ex-2"]
    for draft in parsed.drafts:
        want = EXPECTED[draft.client_report_id]
        report = draft.report
        assert str(report["occurred_at"]) == want["occurred_at"]
        assert report["place"]["locality"] == want["locality"]
        assert report["place"]["country"] in ("KG", "GE")
        body = draft.with_tokens([_token()]).model_dump(mode="json")
        assert body["charges"] == want["charges"]
        narrative = {r[0]: r[10] for r in spreadsheets.rows()}[draft.client_report_id]
        assert body["narrative"] == narrative  # quotes, ";" and a run of spaces kept
        # A date cell becomes ISO, a date typed in a CSV file stays as written: the
        # canonicaliser reads both.
        name, dob = draft.person or ("", None)
        assert name == want["person"][0]
        assert dob in (want["person"][1], "14.03.1999")
    return parsed.detected


def _token():  # type: ignore[no-untyped-def]
    from libs.common.reports import IdentityToken

    return IdentityToken(kind="name_dob", version=1, value="B" * 86)


def test_excel_csv_on_a_russian_windows_cp1251_semicolons() -> None:
    data = spreadsheets.excel_csv()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # what the CLI refused before
    detected = _check(data, "csv")
    assert detected == {"encoding": "cp1251", "delimiter": ";"}


@pytest.mark.parametrize("encoding", ["koi8_r", "cp866", "iso8859_5", "mac_cyrillic"])
def test_other_cyrillic_code_pages_are_detected(encoding: str) -> None:
    data = spreadsheets.excel_csv().decode("cp1251").encode(encoding)
    assert _check(data, "csv")["encoding"] == encoding


def test_utf16_tab_separated_unicode_text() -> None:
    data = spreadsheets.unicode_text()
    assert data.startswith(codecs.BOM_UTF16_LE)
    assert _check(data, "csv") == {"encoding": "utf-16", "delimiter": "\t"}


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark(encoding: str) -> None:
    data = spreadsheets.delimited("\t", encoding)
    assert data[:2] not in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
    assert _check(data, "csv") == {"encoding": encoding, "delimiter": "\t"}
    # ASCII in UTF-16 is also valid UTF-8 (with a NUL after each character): never read so.
    ascii_only = "client_report_id\tincident_type\r\nkg-1\tdetention\r\n".encode(encoding)
    assert ascii_only.decode("utf-8").count("\x00") == len(ascii_only) // 2
    assert text.decode(ascii_only) == (ascii_only.decode(encoding), encoding)


def test_utf8_with_bom_and_pipes() -> None:
    data = spreadsheets.delimited("|", "utf-8-sig")
    assert _check(data, "csv") == {"encoding": "utf-8-sig", "delimiter": "|"}


@pytest.mark.parametrize("encoding", ["utf-8", "cp1251"])
def test_commas_as_a_spreadsheet_elsewhere_writes_them(encoding: str) -> None:
    assert _check(spreadsheets.delimited(",", encoding), "csv") == {
        "encoding": encoding,
        "delimiter": ",",
    }


def test_the_encoding_option_overrides_detection() -> None:
    data = spreadsheets.excel_csv()
    assert _check(data, "csv", encoding="cp1251")["encoding"] == "cp1251"
    # Told wrongly, every byte still decodes in KOI8-R: the rows come out garbled, not accepted
    # silently as the right names (the header is ASCII, so the columns are still found).
    garbled = parse_file(data, "csv", encoding="koi8_r")
    assert "Лев Скорякин" not in {d.person[0] for d in garbled.drafts if d.person}
    with pytest.raises(LifelineError, match="not valid utf-8 \\(byte"):
        parse_file(data, "csv", encoding="utf-8")
    with pytest.raises(LifelineError, match="unknown encoding 'klingon'"):
        parse_file(data, "csv", encoding="klingon")


def test_a_file_that_cannot_be_decoded_gets_one_clear_error() -> None:
    noise = bytes((i * 151 + 7) % 256 for i in range(4096))
    with pytest.raises(LifelineError, match=r"cannot tell the file's encoding.*--encoding"):
        parse_file(noise, "csv")


def test_xlsx_written_by_openpyxl_dates_as_cells() -> None:
    assert _check(spreadsheets.xlsx(), "xlsx") == {}


def test_ods_with_repeated_rows_and_encoded_spaces() -> None:
    assert _check(spreadsheets.ods(), "ods") == {}


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_a_file_that_is_not_a_spreadsheet_gets_one_clear_error(fmt: str) -> None:
    with pytest.raises(LifelineError, match=f"not a readable {fmt.upper()}"):
        parse_file(spreadsheets.excel_csv(), fmt)


def test_rows_keep_readable_reasons_per_row() -> None:
    data = spreadsheets.excel_csv().replace(b"361-1", "статья 361".encode("cp1251") + b"x")
    parsed = parse_file(data, "csv")
    assert [d.client_report_id for d in parsed.drafts] == ["ex-1"]
    (rejection,) = parsed.rejected
    assert rejection.client_report_id == "ex-2"
    assert rejection.reasons == (
        "charges.0.article: not a charge article: expected forms like 280.3, 361-1, ч. 2 ст. 280.3",
    )


def test_the_delimiter_is_the_one_that_finds_the_columns() -> None:
    header = "client_report_id;incident_type;narrative\r\n"
    # Commas inside the cells would fool a count of characters; the header decides.
    assert text.delimiter_of(header + "a;detention;one, two, three, four\r\n") == ";"
    assert text.delimiter_of("a|b|c\n1|2|3\n") == "|"  # no known column: the sniffer
    assert text.delimiter_of("") == ","
