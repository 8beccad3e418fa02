"""The match rule on real OPRF tokens: who alerts strongly, who possibly, who not at all."""

from __future__ import annotations

import pytest

from libs.common.identity import oprf
from libs.common.identity.canonical import Kind
from libs.common.identity.keyring import PrfKeyRing, new_seed
from libs.common.identity.match import RULES, Strength, match, precision
from libs.common.identity.tokens import LocalEvaluator, tokenise
from libs.common.identity.tokenvalue import Token

RING = PrfKeyRing()
KEY = RING.add(1, new_seed())
EVALUATE = LocalEvaluator(KEY)


def _tokens(name: str, dob: str | None, evaluate: LocalEvaluator = EVALUATE) -> frozenset[Token]:
    return tokenise([(name, dob)], evaluate, evaluate.key_version)[0]


STRONG, POSSIBLE, NONE = Strength.STRONG, Strength.POSSIBLE, Strength.NONE

# (a, b, decision): name and date of birth on each side.
TABLE = [
    # The example: a lawyer, a Kyrgyz police report relayed by an NGO, a German paper.
    (("Лев Скорякин", "1999-03-14"), ("SKORIAKIN LEV", "1999-03-14"), STRONG),
    (("Лев Скорякин", "1999-03-14"), ("Lew Skorjakin", "1999-03-14"), STRONG),
    (("Лев Скорякин", "1999-03-14"), ("Skoriakine, Lev Andreevitch", "1999-03-14"), STRONG),
    (("Юлия Навальная", "1976-07-24"), ("NAVALNAIA, IULIIA BORISOVNA", "1976-07-24"), STRONG),
    (("Джамшид Рахимов", "1988-05-01"), ("Jamshid Rakhimov", "1988-05-01"), STRONG),
    (("Гиорги Гоциридзе", "1980-02-02"), ("Giorgi Gociridze", "1980-02-02"), STRONG),
    # One typo: a lower-priority "check this".
    (("Лев Скорякин", "1999-03-14"), ("Lev Skorajkin", "1999-03-14"), POSSIBLE),
    (("Yuliya Navalnaya", "1976-07-24"), ("Yuliya Navlanaya", "1976-07-24"), POSSIBLE),
    (
        ("Aleksandra Kudryavtseva", "1988-08-18"),
        ("Kudriavtseva, Aleksadnra", "1988-08-18"),
        POSSIBLE,
    ),
    # Year-only or missing date on one side.
    (("Лев Скорякин", "1999-03-14"), ("Lev Skoryakin", "1999"), POSSIBLE),
    (("Лев Скорякин", "1999-03-14"), ("Lev Skoryakin", None), POSSIBLE),
    (("Лев Скорякин", "1999"), ("Lev Skoryakin", "1999"), POSSIBLE),
    # Must stay apart.
    (("Ivan Petrovich Sidorov", "1990-05-05"), ("Pavel Petrovich Sidorov", "1990-05-05"), NONE),
    (("Marina Sidorova", "1990-05-05"), ("Olga Sidorova", "1990-05-05"), NONE),  # twins
    (("Aleksandr Golubev", "1978-05-21"), ("Aleksandra Golubeva", "1978-05-21"), NONE),
    (("Valentin Petrosyan", "1978-05-21"), ("Valentina Petrosyan", "1978-05-21"), NONE),
    (("Evgeniy Shevchenko", "1978-05-21"), ("Evgeniya Shevchenko", "1978-05-21"), NONE),
    (("Лев Скорякин", "1999-03-14"), ("Lev Skoryakin", "1986-11-02"), NONE),  # namesake
    (("Лев Скорякин", "1999-03-14"), ("Lev Skoryakin", "1999-11-02"), NONE),  # same year
    (("Лев Скорякин", "1999-03-14"), ("Lev Skoryakin", "1998"), NONE),  # other year
    (("Лев Скорякин", "1999-03-14"), ("Lev Morozov", "1999-03-14"), NONE),  # other surname
    (("Лев Скорякин", "1999-03-14"), ("Anna Kaplan", "1999-03-14"), NONE),
]


@pytest.mark.parametrize(("a", "b", "decision"), TABLE)
def test_match_rule_table(
    a: tuple[str, str | None], b: tuple[str, str | None], decision: Strength
) -> None:
    result = match(_tokens(*a), _tokens(*b))
    assert result.strength is decision, result
    assert match(_tokens(*b), _tokens(*a)).strength is decision  # symmetric
    if decision is STRONG:
        assert Kind.NAME_DOB in result.agreed
    if decision is not NONE:
        assert result.key_version == KEY.version
        assert result.reason in {rule.why for rule in RULES}


def test_possible_match_explains_which_kinds_agreed() -> None:
    result = match(_tokens("Лев Скорякин", "1999-03-14"), _tokens("Lev Skorajkin", "1999-03-14"))
    assert result.agreed & {Kind.PART_DOB_HEAD, Kind.PART_DOB_TAIL}
    assert Kind.NAME_DOB not in result.agreed


def test_tokens_of_one_key_version_never_match_another_version() -> None:
    ring = PrfKeyRing()
    old, new = ring.add(1, new_seed()), ring.add(2, new_seed())
    under_old = _tokens("Лев Скорякин", "1999-03-14", LocalEvaluator(old))
    under_new = _tokens("Лев Скорякин", "1999-03-14", LocalEvaluator(new))
    assert match(under_old, under_new).strength is NONE
    # Even a token value copied under another version label does not match.
    relabelled = frozenset(Token(t.kind, 2, t.value) for t in under_old)
    assert match(under_old, relabelled).strength is NONE
    # During a rotation a watchlist holds both; each version is judged on its own.
    both = under_old | under_new
    assert match(both, under_new).strength is STRONG
    assert match(both, under_new).key_version == 2
    assert match(both, under_old).key_version == 1


def test_different_keys_under_one_version_label_do_not_match() -> None:
    other = PrfKeyRing().add(1, new_seed())
    mine = _tokens("Лев Скорякин", "1999-03-14")
    theirs = _tokens("Лев Скорякин", "1999-03-14", LocalEvaluator(other))
    assert mine.isdisjoint(theirs)
    assert match(mine, theirs).strength is NONE


def test_precision_is_read_from_the_kinds_present() -> None:
    assert precision([Kind.NAME, Kind.NAME_YEAR, Kind.NAME_DOB]) == "full"
    assert precision([Kind.NAME, Kind.NAME_YEAR]) == "year"
    assert precision([Kind.NAME]) == "unknown"


def test_hand_built_tokens_follow_the_rule_order() -> None:
    def tok(kind: Kind, value: bytes) -> Token:
        return Token(kind, 1, value.ljust(oprf.OUTPUT_BYTES, b"\0"))

    full = {tok(Kind.NAME, b"n"), tok(Kind.NAME_YEAR, b"y"), tok(Kind.NAME_DOB, b"d")}
    undated = {tok(Kind.NAME, b"n")}
    other_full = {tok(Kind.NAME, b"n"), tok(Kind.NAME_YEAR, b"y"), tok(Kind.NAME_DOB, b"x")}
    assert match(full, undated).strength is POSSIBLE
    assert match(full, other_full).strength is NONE  # same name, same year, other day
    assert match(set(), full).strength is NONE
