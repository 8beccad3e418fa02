"""Test helper: render a Cyrillic name in the romanisation systems the canonicaliser must fold.

Written from the published tables (ICAO 9303, BGN/PCGN, GOST 7.79 A/B, GOST R 7.0.34, ISO 9,
scientific, Library of Congress, German Duden press spelling, French press spelling) and the
usual informal habits. It is independent of `translit`: the tests check that every rendering
folds to the same key as the Cyrillic original.
"""

# ruff: noqa: RUF001 (Cyrillic letters are this file's data, not look-alikes)

from __future__ import annotations

import re

_VOWELS = "аеёиоуыэюяіїєў"
_HUSHING = "жшчщ"

# Letter tables; None means "handled by a context rule below".
ICAO = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e e zh z i i k l m n o p r s t u f kh ts ch sh shch ie y - e iu ia".split(),
        strict=True,
    )
)
GOST_7034 = {**ICAO, "ц": "tc", "ъ": "-"}
ISO9 = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e ë ž z i j k l m n o p r s t u f h c č š ŝ ʺ y ʹ è û â".split(),
        strict=True,
    )
)
SCIENTIFIC = {**ISO9, "х": "x", "щ": "šč", "ю": "ju", "я": "ja", "ь": "ʹ", "ъ": "ʺ"}
GOST_B = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e yo zh z i j k l m n o p r s t u f x c ch sh shh `` y' ` e' yu ya".split(),
        strict=True,
    )
)
LOC = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e ë zh z i ĭ k l m n o p r s t u f kh t͡s ch sh shch ʺ y ʹ ė i͡u i͡a".split(),
        strict=True,
    )
)
BGN = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e ë zh z i y k l m n o p r s t u f kh ts ch sh shch ʺ y ʹ e yu ya".split(),
        strict=True,
    )
)
ENGLISH = {**BGN, "ё": "yo", "ь": "-", "ъ": "-", "э": "e"}
GERMAN = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b w g d e jo sch s i i k l m n o p r s t u f ch z tsch sch schtsch - y - e ju ja".split(),
        strict=True,
    )
)
FRENCH = dict(
    zip(
        "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
        "a b v g d e io j z i ï k l m n o p r s t ou f kh ts tch ch chtch - y - e iou ia".split(),
        strict=True,
    )
)
INFORMAL = {**ENGLISH, "ж": "j", "х": "h", "ц": "c", "й": "i", "я": "ia", "ю": "iu", "ы": "i"}
# Other Cyrillic letters (Belarusian, Kazakh, Uzbek ...) in a Russian-based rendering.
EXTRA = {"і": "i", "ў": "u", "ә": "a", "ғ": "g", "қ": "k", "ң": "n", "ө": "o", "ұ": "u",
         "ү": "u", "һ": "h", "ҳ": "h", "ї": "yi", "є": "ye", "ґ": "g"}  # fmt: skip


def _render_word(word: str, table: dict[str, str], scheme: str) -> str:
    lower = word.lower()
    out = []
    for index, char in enumerate(lower):
        # "\0" stands for the word's edge, so `in` tests never match an empty string.
        before = lower[index - 1] if index else "\0"
        after = lower[index + 1] if index + 1 < len(lower) else "\0"
        start_or_vowel = before in _VOWELS + "ьъй\0"
        piece = table.get(char, EXTRA.get(char, char))
        if piece == "-":
            piece = ""
        if scheme in ("bgn", "english") and char == "е" and start_or_vowel:
            piece = "ye"
        if scheme in ("bgn", "english") and char == "ё" and start_or_vowel:
            piece = "yo" if scheme == "english" else "yë"
        if scheme == "german":
            if char == "е" and start_or_vowel:
                piece = "je"
            if char == "ё" and before in _HUSHING:
                piece = "o"
            if char == "й" and after in _VOWELS:
                piece = "j"
            if char == "с" and before in _VOWELS and after in _VOWELS:
                piece = "ss"
            if char == "ь" and after in "еёюя":
                piece = "j" if after == "е" else ""
        if scheme == "french":
            if char == "г" and after in "еиыэ":
                piece = "gu"
            if char == "ё" and before in _HUSHING:
                piece = "o"
            if char == "й" and before in _VOWELS:
                piece = "ï"
            if char == "с" and before in _VOWELS and after in _VOWELS:
                piece = "ss"
            if char == "е" and before in "ьъ":
                piece = "ie"
        out.append(piece)
    text = "".join(out)
    if scheme == "german":
        text = re.sub(r"(?<=[ij])j$", "", text)  # -ий → -i (Juri), -ский → -ski
        text = re.sub(r"yj$", "y", text)
    if scheme == "french":
        text = re.sub(r"iï$", "i", text)  # -ий → -i (Iouri), -ский → -ski
        if lower.endswith("ин"):
            text += "e"  # Poutine, Skoriakine
    if scheme == "english":
        text = re.sub(r"iy$", "y", text)  # Vasily, Zelensky
    return text


SCHEMES = {
    "icao": ICAO,
    "gost7034": GOST_7034,
    "iso9": ISO9,
    "scientific": SCIENTIFIC,
    "gost_b": GOST_B,
    "loc": LOC,
    "bgn": BGN,
    "english": ENGLISH,
    "german": GERMAN,
    "french": FRENCH,
    "informal": INFORMAL,
}


def render(name: str, scheme: str) -> str:
    """`name` (Cyrillic words separated by spaces or hyphens) in `scheme`, capitalised."""
    table = SCHEMES[scheme]
    words = re.split(r"(\s+|-)", name)
    return "".join(
        w if not w.strip() or w == "-" else _render_word(w, table, scheme).capitalize()
        for w in words
    )
