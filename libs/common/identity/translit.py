"""Transliteration folding: every common spelling of one name word becomes one phonetic form.

The rules are data (`rules.json`, shared with the console). A word goes through four stages:

1. `CYRILLIC` (Russian, Ukrainian, Belarusian, Kazakh, Kyrgyz, Uzbek, Tajik, Azerbaijani
   letters), `GEORGIAN` and `ARMENIAN`: letters become a plain English-style Latin spelling, so
   such input then takes the same path as any Latin spelling of it.
2. `LETTERS`: Latin letters with diacritics (ISO 9, GOST 7.79 System A, scientific, Library of
   Congress, BGN/PCGN, Turkic Latin alphabets) become their plain digraph.
3. `RULES`: ordered rewrites that merge what the schemes spell differently. The result uses a
   small alphabet: vowels `a e i o u`, plain consonants, and two merged classes written in capitals,
   `H` (г х ж ш щ ч, кс: g h kh x ks zh sh ch sch tsch tch shch ž š č …) and `S` (с з ц: s z ts
   c cz tz). Glides (й and the y/i/j of я ю е ё) are normalised around the vowel they precede.
4. Doubled letters collapse (Filippov/Filipov, Vasilyevich/Wassiljewitsch).

Folding is deliberately lossy: two different names may fold alike (Гуров/Журов). The date of
birth and the other name parts keep such people apart; a missed alert is the worse error here.
"""

# ruff: noqa: RUF002 (Cyrillic letters in the docstring are examples, not look-alikes)

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from libs.common.identity.ruledata import DATA

_TRANSLIT: Final = DATA["translit"]
# Stage 1. Cyrillic → a plain Latin spelling (English press / BGN style without diacritics).
CYRILLIC: Final[dict[str, str]] = _TRANSLIT["cyrillic"]
# Georgian (national system 2002) and Eastern Armenian (ISO 9985-style, as in passports): what
# Caucasian partners may type. ჯ/ջ are дж; aspirated and plain stops meet, as in Russian.
GEORGIAN: Final[dict[str, str]] = _TRANSLIT["georgian"]
ARMENIAN: Final[dict[str, str]] = _TRANSLIT["armenian"]
# Stage 2. Latin letters with diacritics → plain spelling; anything else loses its accents.
LETTERS: Final[dict[str, str]] = _TRANSLIT["letters"]

_SCRIPTS: Final = {**CYRILLIC, **GEORGIAN, **ARMENIAN, **LETTERS}
_MARKS: Final = re.compile(_TRANSLIT["marks"])


@dataclass(frozen=True)
class Rule:
    """One rewrite: `pattern` → `replacement`, and the spelling systems it reconciles."""

    pattern: str
    replacement: str
    why: str


# Stage 3. Applied in order; longer spellings before the digraphs they contain.
RULES: Final[tuple[Rule, ...]] = tuple(
    Rule(rule["pattern"], rule["replacement"], rule["why"]) for rule in _TRANSLIT["rules"]
)

_COMPILED: Final = tuple((re.compile(rule.pattern), rule.replacement) for rule in RULES)
_DOUBLES: Final = re.compile(r"(.)\1+")
_NON_LETTER: Final = re.compile(r"[^a-z]")
_J_AS_ZH: Final = re.compile(r"j")


def to_latin(word: str) -> str:
    """Lower-case `word` and spell it in plain Latin letters (stages 1 and 2)."""
    out: list[str] = []
    for char in unicodedata.normalize("NFC", word.casefold()):
        mapped = _SCRIPTS.get(char)
        if mapped is not None:
            out.append(mapped)
            continue
        # Other accented letters (é, ë, ï, ė, ĭ, ü, ö, ä …) keep their base letter.
        base = unicodedata.normalize("NFD", char)[0]
        out.append(base if base.isascii() or _MARKS.match(char) else "")
    return "".join(out)


def _fold_latin(text: str) -> str:
    """Stages 3 and 4 on a word already in plain Latin letters."""
    for pattern, replacement in _COMPILED:
        text = pattern.sub(replacement, text)
    text = _DOUBLES.sub(r"\1", text)
    # Capital class letters survive; any stray punctuation or digit does not.
    return "".join(c for c in text if c.isupper() or not _NON_LETTER.match(c))


@lru_cache(maxsize=65536)
def fold_word(word: str) -> str:
    """The phonetic form of one name word; equal for all its usual spellings."""
    return _fold_latin(to_latin(word))


@lru_cache(maxsize=65536)
def fold_word_alternative(word: str) -> str | None:
    """The reading of a word whose j stands for ж (French Jukov, informal Rojkova), or None.

    German, ISO and scientific spellings use j for й (Jurij, Olejnik); French and informal ones
    for ж. No rule tells them apart, so a word with a j gets both readings.
    """
    latin = to_latin(word)
    if "j" not in latin:
        return None
    alternative = _fold_latin(_J_AS_ZH.sub("zh", latin))
    return alternative if alternative != _fold_latin(latin) else None
