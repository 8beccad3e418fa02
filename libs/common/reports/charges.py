"""Charge articles as criminal codes and lawyers write them, reduced to one stored form.

Russian articles added between two others take a dot (`280.3`), Belarusian ones a hyphen
(`361-1`, printed `361¹`); a part of an article is written `ч. 2 ст. 280.3`, `280.3 ч. 2` or
`205.2(2)`. Every form is stored as `ARTICLE` or `ARTICLE(PART)`: `280.3(2)`, `361-1`.
The console repeats these rules (`services/console/web/src/charges.ts`); both are held to the
table in `tests/vectors/charge-articles.json`.
"""

from __future__ import annotations

import re
import unicodedata

from pydantic_core import PydanticCustomError

# The stored form: what `Charge.article` holds once normalised.
CANONICAL = r"^[0-9]{1,4}([.-][0-9]{1,3})?(\([0-9a-z]{1,3}\))?$"
REFUSAL = "not a charge article: expected forms like 280.3, 361-1, ч. 2 ст. 280.3"
MAX_INPUT = 64

_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_SUPERSCRIPT_RUN = re.compile(r"[⁰¹²³⁴⁵⁶⁷⁸⁹]+")
_DASHES = re.compile("[\u2010\u2011\u2012\u2013\u2014\u2212]")  # hyphens, dashes, minus
_DECIMAL_COMMA = re.compile(r"(?<=[0-9]),(?=[0-9])")
# "ч." (часть), "part"; "ст." (статья), "арт." (артыкул, Belarusian), "art.", "st.".
_PART = r"(?:ч|час(?:ть|ти|тью)|ch|part|pt)\.?"
_ARTICLE = r"(?:ст|стат(?:ья|ьи|ье|ьёй|ьей)|арт|артыкул|st|art|article)\.?"
_NUMBER = r"[0-9]{1,4}(?:[.-][0-9]{1,3})?"
_PART_NO = r"[0-9a-z]{1,3}"
# The code itself, when written after the article ("ст. 280.3 UK RF"): the charge's
# `state` and `code` say that, so it is dropped here.
_CODE = r"(?:\s*,?\s*(?:ук|uk|cc)(?:\s*(?:рф|рб|rf|rb|ru|by))?)?"  # noqa: RUF001
_FORM = re.compile(
    rf"(?:{_PART}\s*(?P<before>{_PART_NO})\s*,?\s*)?"
    rf"(?:{_ARTICLE}\s*)?"
    rf"(?P<article>{_NUMBER})"
    rf"(?:\s*\(\s*(?P<paren>{_PART_NO})\s*\))?"
    rf"(?:\s*,?\s*{_PART}\s*(?P<after>{_PART_NO}))?"
    rf"{_CODE}"
)


def canonical_article(text: str) -> str:
    """The stored form of an article as written (`ч. 2 ст. 280.3` -> `280.3(2)`), else a
    `ValueError` whose message says which forms are accepted."""
    if len(text) > MAX_INPUT:
        raise ValueError(REFUSAL)
    text = _SUPERSCRIPT_RUN.sub(lambda m: "-" + m.group().translate(_SUPERSCRIPTS), text)
    text = unicodedata.normalize("NFKC", text).lower().replace("\u00a0", " ")
    text = _DECIMAL_COMMA.sub(".", _DASHES.sub("-", text)).strip()
    match = _FORM.fullmatch(text)
    if match is None:
        raise ValueError(REFUSAL)
    parts = [p for p in match.group("before", "paren", "after") if p]
    if len(parts) > 1:
        raise ValueError(REFUSAL)
    return match["article"] + (f"({parts[0]})" if parts else "")


def article_input(value: object) -> object:
    """Pydantic's before-validator: a string is normalised, anything else left to the type."""
    if not isinstance(value, str):
        return value
    try:
        return canonical_article(value)
    except ValueError:
        # A custom error keeps the message as it is ("not a charge article: …"), without
        # pydantic's "Value error, " in front, wherever intake or the SDK shows it.
        raise PydanticCustomError("charge_article", REFUSAL) from None
