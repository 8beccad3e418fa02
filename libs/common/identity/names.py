"""Name layout: split a written name into folded parts and set its patronymic aside.

Handles any order (given-first, surname-first, "Surname, Given Patronymic"), any case, commas,
hyphenated compounds, Russian-style patronymics (-ovich/-evna/-ichna) and Turkic ones, attached
(-uly, -kyzy, -ogly) or as a separate particle ("Ilgar oglu", "Askar uulu", "Zafar o'g'li").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from libs.common.errors import InvalidInput
from libs.common.identity.fuzzy import edit_distance
from libs.common.identity.ruledata import DATA
from libs.common.identity.translit import fold_word, fold_word_alternative

_NAMES: Final = DATA["names"]
MAX_NAME_CHARS: Final[int] = _NAMES["max_name_chars"]
MAX_WORDS: Final[int] = _NAMES["max_words"]

# Folded endings of patronymic words (translit: H is the hushing/velar class, S the sibilant one).
PATRONYMIC_ENDINGS: Final[tuple[str, ...]] = tuple(
    entry["ending"] for entry in _NAMES["patronymic_endings"]
)
# A separate particle word after the father's name: the particle and that name go together.
# uly, uulu (son: Kazakh, Kyrgyz), ogly/oglu/o'g'li (son: Azerbaijani, Turkmen, Uzbek),
# kyzy/qizi/gyzy (daughter).
PATRONYMIC_PARTICLES: Final[frozenset[str]] = frozenset(_NAMES["patronymic_particles"])
# Shortest word that may carry an attached patronymic ending (Ilich counts, Ich not).
_MIN_PATRONYMIC_CHARS: Final[int] = _NAMES["min_patronymic_chars"]
# When no word ends exactly like a patronymic, one within a typo of these endings is taken
# (Vladimirona, Ivanonva), unless it ends like a surname (Ivanova is one edit from -ovna too).
FUZZY_PATRONYMIC_ENDINGS: Final[tuple[str, ...]] = tuple(_NAMES["fuzzy_patronymic_endings"])
SURNAME_ENDINGS: Final[tuple[str, ...]] = tuple(_NAMES["surname_endings"])
# Kazakh/Kyrgyz surnames written with the father's name and -uly/-uulu/-kyzy: the Russian ending
# they stand for (Nurlanuly/Nurlanov), the first that fits wins.
TURKIC_SURNAME_ENDINGS: Final[tuple[tuple[str, str], ...]] = tuple(
    (entry["ending"], entry["replacement"]) for entry in _NAMES["turkic_surname_endings"]
)
_MIN_STEM: Final[int] = DATA["canonical"]["min_stem"]


def _national_forms() -> dict[str, str]:
    """Folded national given-name form → folded Russian form (Mykhailo, Mikhal → Mikhail)."""
    table: dict[str, str] = {}
    for entry in _NAMES["given_name_forms"]:
        russian = fold_word(entry["russian"])
        for form in entry["forms"]:
            if (folded := fold_word(form)) != russian:
                table[folded] = russian
    return table


GIVEN_NAME_FORMS: Final[dict[str, str]] = _national_forms()

# Whitespace as Python's str.isspace() knows it, spelled out so JavaScript reads it alike.
_SPLIT: Final = re.compile(_NAMES["split"])
_HYPHENS: Final = re.compile(_NAMES["hyphens"])  # hyphen-minus and Unicode dashes
_LETTER: Final = re.compile(r"[^\W\d_]")


def _invalid(code: str) -> InvalidInput:
    """The error of a bad name; its message is the one `rules.json` gives the code."""
    return InvalidInput(DATA["errors"][code], fields=[{"field": "name"}])


@dataclass(frozen=True)
class Word:
    """One written word of a name: its folded form and, if its spelling is ambiguous, another.

    `written` is the folded form before a national form was replaced by the Russian one;
    `turkic` says the Turkic surname rule made that replacement (see `part`).
    """

    folded: str
    alternative: str | None = None
    written: str | None = None
    turkic: bool = False

    def part(self, reading: str) -> str:
        """The form a part key reads: the written one if the Turkic rule read the word.

        Measured: a -kyzy surname read as -ova shares first letter and ending with other
        families' -ova (Nurlanova/Nurbekova), and as the exact part it meets a sister whose
        given name shares a head; so the rule's form enters the whole-name keys only.
        """
        return self.written if self.turkic and self.written else reading


@dataclass(frozen=True)
class ParsedName:
    """The main name parts (given names, surnames) and the patronymic, all folded."""

    parts: tuple[Word, ...]
    patronymic: Word | None


def _words(text: str) -> list[Word]:
    """Fold each written word; hyphenated compounds (Shevchenko-Savelev) stay one word."""
    out = []
    for raw in _SPLIT.split(text):
        joined = _HYPHENS.sub("", raw)
        folded = fold_word(joined)
        # Initials (V. Putin) carry too little to match on and would only split the key.
        if len(folded) > 1:
            out.append(Word(folded, fold_word_alternative(joined)))
    return out


def _is_patronymic(word: Word) -> bool:
    """Whether a word ends like a patronymic (it still needs to stand in a patronymic slot)."""
    text = word.folded
    return len(text) >= _MIN_PATRONYMIC_CHARS and text.endswith(PATRONYMIC_ENDINGS)


def _is_near_patronymic(word: Word) -> bool:
    """Whether a word ends within one typo of a patronymic ending and not like a surname."""
    text = word.folded
    if len(text) < 6 or text.endswith(SURNAME_ENDINGS):
        return False
    return any(
        edit_distance(text[-size:], ending) <= 1
        for ending in FUZZY_PATRONYMIC_ENDINGS
        for size in (len(ending) - 1, len(ending), len(ending) + 1)
    )


def _turkic_form(folded: str) -> str | None:
    """The Russian surname a Kazakh/Kyrgyz -uly/-uulu/-kyzy surname stands for, if it is one."""
    for ending, replacement in TURKIC_SURNAME_ENDINGS:
        if folded.endswith(ending) and len(folded) - len(ending) >= _MIN_STEM:
            return folded[: -len(ending)] + replacement
    return None


def russian_form(folded: str) -> str:
    """The folded Russian form of a folded name part: national given names, Turkic surnames."""
    if (russian := GIVEN_NAME_FORMS.get(folded)) is not None:
        return russian
    return _turkic_form(folded) or folded


def _russian_word(word: Word) -> Word:
    """A main part in its Russian form (both readings); the patronymic never needs it."""
    folded = russian_form(word.folded)
    alternative = russian_form(word.alternative) if word.alternative else None
    written = word.folded if folded != word.folded else None
    turkic = word.folded not in GIVEN_NAME_FORMS and _turkic_form(word.folded) is not None
    return Word(folded, alternative if alternative != folded else None, written, turkic)


def _merge_particles(words: list[Word]) -> tuple[list[Word], Word | None]:
    """Turn "<father's name> <particle>" (Ilgar oglu, Askar uulu) into one patronymic."""
    for index in range(1, len(words)):
        if words[index].folded in PATRONYMIC_PARTICLES:
            father = words[index - 1]
            rest = words[: index - 1] + words[index + 1 :]
            # The father's name keeps its j-as-ж reading (Jumabek uulu): it may be the surname.
            alternative = father.alternative and father.alternative + words[index].folded
            return rest, Word(father.folded + words[index].folded, alternative)
    return words, None


def _pick_patronymic(words: list[Word]) -> int | None:
    """Index of the patronymic in a name without a comma, or None.

    It never comes first; in "Given Patronymic Surname" it is second, in "Surname Given
    Patronymic" last. When both look like one (Ivan Petrovich Karpovich), the second word wins
    because a given name hardly ever ends like a patronymic while many surnames do.
    """
    if len(words) < 3:
        return None
    for test in (_is_patronymic, _is_near_patronymic):
        for index in range(1, len(words)):
            if test(words[index]):
                return index
    return None


def parse_name(text: str) -> ParsedName:
    """Split a written name into folded main parts and an optional patronymic."""
    if not isinstance(text, str):
        raise _invalid("name_type")
    if len(text) > MAX_NAME_CHARS:
        raise _invalid("name_too_long")
    if not _LETTER.search(text):
        raise _invalid("name_no_letters")
    head, comma, tail = text.partition(",")
    if comma:
        surname, rest = _words(head), _words(tail)
        rest, patronymic = _merge_particles(rest)
        # "Surname, Given Patronymic": the word after the given name is the patronymic by
        # position, so a typo in its ending does not turn it into a second given name.
        if patronymic is None and len(rest) >= 2 and surname:
            patronymic, rest = rest[1], rest[:1] + rest[2:]
        words = surname + rest
    else:
        words, patronymic = _merge_particles(_words(text))
        if patronymic is not None and len(words) < 2:
            # "Azamat Nurlan uulu" (Kyrgyz): with no surname, the father's name is the family
            # name and must stay in the key.
            words, patronymic = [*words, patronymic], None
        elif patronymic is None:
            index = _pick_patronymic(words)
            if index is not None:
                patronymic = words.pop(index)
    if not words:
        # A lone word that looks like a patronymic is still all we know about the person.
        if patronymic is None:
            raise _invalid("name_no_parts")
        words, patronymic = [patronymic], None
    if len(words) > MAX_WORDS:
        raise _invalid("name_too_many_words")
    # Only now: the national suffixes (-uly, -kyzy) must first have a chance to be patronymics.
    return ParsedName(tuple(_russian_word(word) for word in words), patronymic)
