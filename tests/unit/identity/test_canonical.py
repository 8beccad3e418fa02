"""Canonical keys: layout never matters, dates decide, sexes stay apart, bad input is refused."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from libs.common.errors import InvalidInput
from libs.common.identity.canonical import CanonicalKey, Kind, canonical_keys
from libs.common.identity.dates import parse_dob
from libs.common.identity.names import parse_name


def _of(keys: frozenset[CanonicalKey], kind: Kind) -> set[str]:
    return {key.text for key in keys if key.kind is kind}


def _shares(a: tuple[str, str | None], b: tuple[str, str | None], kind: Kind) -> bool:
    return bool(_of(canonical_keys(*a), kind) & _of(canonical_keys(*b), kind))


# The same person written by a lawyer, a Kyrgyz police report, German and French papers.
SAME_PERSON = [
    ("Лев Скорякин", "SKORIAKIN LEV"),
    ("Лев Скорякин", "Lew Skorjakin"),
    ("Лев Скорякин", "Skoriakine, Lev"),
    ("Лев Скорякин", "Скорякин Лев Андреевич"),
    ("Лев Скорякин", "SKORYAKIN, LEV ANDREYEVICH"),
    ("Юлия Навальная", "Iuliia Navalnaia"),
    ("Юлия Навальная", "Ioulia Navalnaïa"),
    ("Юлия Навальная", "NAWALNAJA, Julija Borissowna"),
    ("Petr Shevchenko-Savelev", "SHEVCHENKO-SAVELEV, PETR"),
    ("Nursultan Abishuly Nazarbayev", "Назарбаев Нурсултан Абишевич"),
    ("Nursultan Abishuly Nazarbayev", "NAZARBAEV, Nursultan"),
    ("Ilham Heydar oglu Aliyev", "Алиев Ильхам Гейдарович"),
    ("Aziza Karim qizi Rahimova", "Азиза Рахимова"),
    ("Азамат Нурлан уулу", "Azamat Nurlan uulu"),
    ("Giorgi Gotsiridze", "ГОЦИРИДЗЕ, Гиорги"),
    ("Святлана Ціханоўская", "Sviatlana Tsikhanouskaya"),
    ("Stanislava Demidova", "Stanislava Demidov"),  # masculine surname form, same woman
    ("Инна Левина", "Inna Levina Viktorovna"),
]

# Different people who share a lot.
DIFFERENT_PEOPLE = [
    ("Aleksandr Golubev", "Aleksandra Golubeva"),  # brother and sister
    ("Valentin Petrosyan", "Valentina Petrosyan"),  # brother and sister, surname without sex
    ("Ivan Petrov", "Pavel Petrov"),  # twins
    ("Ivan Petrov", "Ivan Sidorov"),  # same given name
]


@pytest.mark.parametrize(("a", "b"), SAME_PERSON)
def test_the_same_person_gets_the_same_full_key(a: str, b: str) -> None:
    assert _shares((a, "1999-03-14"), (b, "1999-03-14"), Kind.NAME_DOB)


@pytest.mark.parametrize(("a", "b"), DIFFERENT_PEOPLE)
def test_different_people_born_the_same_day_do_not_share_whole_name_keys(a: str, b: str) -> None:
    for kind in (Kind.NAME_DOB, Kind.NAME_YEAR, Kind.NAME):
        assert not _shares((a, "1999-03-14"), (b, "1999-03-14"), kind)


def test_brother_and_sister_share_no_key_even_without_a_gendered_surname() -> None:
    for surname in ("Petrosyan", "Shevchenko", "Golubev"):
        sister = surname + ("a" if surname.endswith("v") else "")
        brother_keys = canonical_keys(f"Aleksandr {surname}", "1999-03-14")
        sister_keys = canonical_keys(f"Aleksandra {sister}", "1999-03-14")
        assert brother_keys.isdisjoint(sister_keys), surname


@pytest.mark.parametrize(
    "typo", ["Skorjakn Lev", "Skorajkin Lev", "Skorykin Lev", "Skoryakim Lev", "Skoyrakin Lev"]
)
def test_one_typo_keeps_a_part_key_but_not_the_full_key(typo: str) -> None:
    original = ("Лев Скорякин", "1999-03-14")
    assert not _shares(original, (typo, "1999-03-14"), Kind.NAME_DOB)
    assert _shares(original, (typo, "1999-03-14"), Kind.PART_DOB_HEAD) or _shares(
        original, (typo, "1999-03-14"), Kind.PART_DOB_TAIL
    )


def test_key_counts_stay_small() -> None:
    assert len(canonical_keys("Lev Skoryakin", "1999-03-14")) == 7
    assert len(canonical_keys("Lev Skoryakin", "1999")) == 2
    assert len(canonical_keys("Lev Skoryakin", None)) == 1
    # A j that may be ж doubles the three whole-name keys and adds the part keys anchored on
    # its ж reading (the head and tail of the other part are the same), no more.
    assert len(canonical_keys("Lev Skorjakin", "1999-03-14")) == 12
    # A national form adds the part keys of its written form (a typo in it still meets).
    assert len(canonical_keys("Mykhailo Shevchenko", "1999-03-14")) == 10


def test_date_precision_decides_the_kinds() -> None:
    assert {k.kind for k in canonical_keys("Lev Skoryakin", "1999-03-14")} == set(Kind)
    assert {k.kind for k in canonical_keys("Lev Skoryakin", "1999")} == {Kind.NAME, Kind.NAME_YEAR}
    assert {k.kind for k in canonical_keys("Lev Skoryakin", None)} == {Kind.NAME}
    assert {k.kind for k in canonical_keys("Skoryakin", "1999-03-14")} == {
        Kind.NAME,
        Kind.NAME_YEAR,
        Kind.NAME_DOB,
    }


@pytest.mark.parametrize(
    ("text", "year", "full"),
    [
        ("1999-03-14", 1999, dt.date(1999, 3, 14)),
        ("14.03.1999", 1999, dt.date(1999, 3, 14)),
        ("1999", 1999, None),
        ("1999-03", 1999, None),
        (None, None, None),
        ("  ", None, None),
    ],
)
def test_dates_of_birth_are_read_in_the_usual_forms(
    text: str | None, year: int | None, full: dt.date | None
) -> None:
    dob = parse_dob(text)
    assert (dob.year, dob.full) == (year, full)


@pytest.mark.parametrize("text", ["1999-02-30", "99-03-14", "1999/03/14", "1850", "March 1999"])
def test_bad_dates_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        parse_dob(text)
    assert exc.value.fields == [{"field": "dob"}]


@pytest.mark.parametrize("name", ["", "   ", "123 456", ",-,", "x" * 201])
def test_bad_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput):
        canonical_keys(name, "1999-03-14")


def test_patronymic_slot_is_found_in_every_order() -> None:
    for text in (
        "Lev Andreyevich Skoryakin",
        "Skoryakin Lev Andreyevich",
        "SKORYAKIN, LEV ANDREEVICH",
        "Skoryakin, Lev Andreevna",
    ):
        parsed = parse_name(text)
        assert sorted(w.folded for w in parsed.parts) == ["Skoriakin", "lev"], text
    # A surname ending like a patronymic stays a surname.
    assert {w.folded for w in parse_name("Rabinovich, Angelina Borisovna").parts} == {
        "rabinoviH",
        "anHelina",
    }


GIVEN = ["Lev", "Yuliya", "Aleksandr", "Natal'ya", "Zhanbolat", "Giorgi", "Ulyana", "Fyodor"]
SURNAMES = ["Skoryakin", "Navalnaya", "Shevchenko-Savelev", "Nazarbayev", "Gotsiridze", "Ilyin"]
PATRONYMICS = ["Andreyevich", "Borisovna", "Sergeevich", "Valer'evna", "Il'inichna"]
LAYOUTS = [
    "{g}_{s}",
    "{s}_{g}",
    "{s},_{g}",
    "{g}_{p}_{s}",
    "{s}_{g}_{p}",
    "{s},_{g}_{p}",
    "{s},{g}",
]


def _scramble_case(text: str, seed: int) -> str:
    rng = random.Random(seed)
    return "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(GIVEN),
    st.sampled_from(SURNAMES),
    st.sampled_from(PATRONYMICS),
    st.sampled_from(LAYOUTS),
    st.sampled_from(["plain", "upper", "lower", "title", "scrambled"]),
    st.sampled_from([" ", "  ", "\t", " \n "]),
    st.integers(0, 10_000),
    st.sampled_from(["1999-03-14", "1999", None]),
)
def test_order_case_punctuation_and_patronymic_never_change_the_keys(
    given_name: str,
    surname: str,
    patronymic: str,
    layout: str,
    case: str,
    gap: str,
    seed: int,
    dob: str | None,
) -> None:
    reference = canonical_keys(f"{given_name} {surname}", dob)
    text = " " + layout.format(g=given_name, s=surname, p=patronymic).replace("_", gap) + gap
    text = {
        "plain": text,
        "upper": text.upper(),
        "lower": text.lower(),
        "title": text.title(),
        "scrambled": _scramble_case(text, seed),
    }[case]
    assert canonical_keys(text, dob) == reference


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(GIVEN),
    st.sampled_from(SURNAMES),
    st.dates(dt.date(1900, 1, 1), dt.date(2030, 12, 31)),
    st.dates(dt.date(1900, 1, 1), dt.date(2030, 12, 31)),
)
def test_a_changed_full_date_changes_every_full_date_key(
    given_name: str, surname: str, first: dt.date, second: dt.date
) -> None:
    name = f"{given_name} {surname}"
    a, b = canonical_keys(name, first.isoformat()), canonical_keys(name, second.isoformat())
    dated = (Kind.NAME_DOB, Kind.PART_DOB_HEAD, Kind.PART_DOB_TAIL)
    for kind in dated:
        assert bool(_of(a, kind) & _of(b, kind)) == (first == second), kind
    assert _of(a, Kind.NAME) == _of(b, Kind.NAME)
    assert (_of(a, Kind.NAME_YEAR) == _of(b, Kind.NAME_YEAR)) == (first.year == second.year)


def test_keys_encode_with_version_and_kind_for_domain_separation() -> None:
    key = CanonicalKey(Kind.NAME, "lev Skoriakin")
    assert key.encode() == b"lifeline-identity/2/name/lev Skoriakin"
    assert key.encode() != CanonicalKey(Kind.NAME_DOB, "lev Skoriakin").encode()
