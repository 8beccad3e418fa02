"""Transliteration folding: every common spelling of one name word becomes one phonetic form.

The rules are data. A word goes through four stages:

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

# ruff: noqa: RUF001, RUF002, RUF003 (Cyrillic letters are this file's data, not look-alikes)

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

# Stage 1. Cyrillic → a plain Latin spelling (English press / BGN style without diacritics).
CYRILLIC: Final[dict[str, str]] = {
    # Russian
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "yo", "ж": "zh",
    "з": "z", "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu",
    "я": "ya",
    # Ukrainian and Belarusian (г is h there: g and h fold together below anyway)
    "і": "i", "ї": "yi", "є": "ye", "ґ": "g", "ў": "u",
    # Kazakh, Kyrgyz, Uzbek, Tajik, Azerbaijani
    "ә": "a", "ғ": "g", "қ": "k", "ң": "n", "ө": "o", "ұ": "u", "ү": "u", "һ": "h",
    "ҳ": "h", "ӣ": "i", "ӯ": "u", "ҷ": "dzh", "ҹ": "dzh", "ҝ": "g", "ј": "y",
}  # fmt: skip

# Georgian (national system 2002) and Eastern Armenian (ISO 9985-style, as in passports): what
# Caucasian partners may type. ჯ/ջ are дж; aspirated and plain stops meet, as in Russian.
GEORGIAN: Final[dict[str, str]] = dict(
    zip(
        "აბგდევზთიკლმნოპჟრსტუფქღყშჩცძწჭხჯჰ",
        "a b g d e v z t i k l m n o p zh r s t u p k gh k sh ch ts dz ts ch kh dzh h".split(),
        strict=True,
    )
)
ARMENIAN: Final[dict[str, str]] = dict(
    zip(
        "աբգդեզէըթժիլխծկհձղճմյնշոչպջռսվտրցւփքօֆև",
        (
            "a b g d e z e y t zh i l kh ts k h dz gh ch m y n sh o "
            "ch p dzh r s v t r ts u p k o f ev"
        ).split(),
        strict=True,
    )
)

# Stage 2. Latin letters with diacritics → plain spelling; anything else loses its accents.
LETTERS: Final[dict[str, str]] = {
    "č": "ch", "š": "sh", "ž": "zh", "ŝ": "shch",  # ISO 9, GOST 7.79-A, scientific
    "â": "ya", "û": "yu",  # ISO 9 я ю
    "ć": "c", "ś": "s", "ź": "z", "ż": "zh",  # Belarusian Łacinka / Polish: ć ś ź are soft ц с з
    "ş": "sh", "ç": "ch", "ğ": "g", "ı": "i", "ə": "a", "ý": "y", "ñ": "n", "ň": "n",  # Turkic
    "ł": "l", "ß": "ss", "ø": "o", "æ": "ae", "œ": "oe",
}  # fmt: skip

_SCRIPTS: Final = {**CYRILLIC, **GEORGIAN, **ARMENIAN, **LETTERS}
_MARKS: Final = re.compile(r"['’‘ʹʺʼ`´\"·″ʻ]")


@dataclass(frozen=True)
class Rule:
    """One rewrite: `pattern` → `replacement`, and the spelling systems it reconciles."""

    pattern: str
    replacement: str
    why: str


# Stage 3. Applied in order; longer spellings before the digraphs they contain.
RULES: Final[tuple[Rule, ...]] = (
    Rule(r"o(?=['’‘ʻ])", "u", "Uzbek Latin o' is ў, spelled u in Russian-based systems"),
    Rule(r"['’‘ʹʺʼ`´\"·″ʻ]", "", "soft/hard signs and separators: ʹ ʺ ' ` ’ (BGN, GOST-B, ISO)"),
    Rule(r"ou", "u", "French у: Oulianov, Iouri, Joukov"),
    Rule(r"gu(?=[ei])", "g", "French г before e/i: Guennadi, Sergueï, Evgueni"),
    Rule(r"ph", "f", "Greek-origin ph: Philipp"),
    Rule(r"th", "t", "Greek-origin th: Theodor"),
    # One alternation, longest spellings first, so tsch is never read as t + sch.
    Rule(
        r"schtsch|shch|chtch|tsch|dsch|dzh|tch|shh|sch|zh|kh|sh|ch|gh",
        "H",
        "щ (schtsch shch chtch shh), ч (tsch tch ch), ш (sch sh ch), ж (zh), х (kh ch), "
        "дж (dsch dzh), ғ (gh): German, English/ICAO/BGN, French, GOST-B, LoC",
    ),
    Rule(r"q", "k", "Kazakh/Uzbek Latin q for қ"),
    Rule(r"ct", "kt", "Victor, Victoria: c before t is k in Western spellings"),
    Rule(r"^c(?=[lr])", "k", "Claudia, Cristina: initial cl/cr is k (ц never comes before l/r)"),
    Rule(r"ks|x|g|h", "H", "x is кс (Alexei) or х (GOST-B Zaxar): merge both; г is g or h"),
    Rule(
        r"tz|ts|tc|cz|c|z|s", "S", "ц з с: ts, tz, tc (GOST 7.0.34), c (ISO), cz (GOST-B), German z"
    ),
    Rule(r"w", "v", "German/Polish w for в: Iwanow, Wladimir"),
    Rule(r"(?<=[oe])f+$", "v", "old French/English -off/-eff for -ов/-ев: Smirnoff"),
    # Glides: я ю е ё and й are spelled ya/ia/ja/â, yu/iu/ju/iou/û, ye/ie/je/e, yo/io/jo/ë/e.
    Rule(r"(?<=H)o(?=va?$)", "e", "ё after ж ч ш щ: German Gorbatschow, English Gorbachev"),
    Rule(r"[iyj]+(?=e)", "", "glide before e: Yelena/Elena/Jelena, Andreyev/Andreev/Andrejew"),
    Rule(r"[iyj]+o", "e", "ё after a consonant: Fyodor/Fiodor/Fjodor/Fëdor/Fedor (ICAO e)"),
    Rule(r"[iyj]+(?=[aiu])", "i", "glide before a/u: Yuliya/Iuliia/Julija/Ioulia, Maya/Maiia"),
    Rule(r"[yj]+", "i", "й and ы: Sergey/Sergei/Sergej, -skiy/-skii/-sky, Krylov/Krilov"),
    Rule(r"i+", "i", "-ий/-ии spelled ii, iy, ij, i: Vasilii/Vasiliy/Vasilij/Vasili"),
    Rule(r"(?<=.{2})ine$", "in", "French -ine for -ин: Poutine, Skoriakine"),
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
