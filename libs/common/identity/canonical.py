"""Canonical keys: a name and a date of birth become a few labelled keys that survive spelling.

Each key is a kind and a text. Equal keys of one kind mean the identities agree on what that
kind covers; the match rule (`match.py`) reads which kinds agree. The keys are never stored or
sent: each becomes an OPRF token (`tokens.py`).

| kind            | text (folded, see `translit`)                       | emitted when         |
|-----------------|-----------------------------------------------------|----------------------|
| `name_dob`      | all name parts sorted, surname sex folded; date     | full date known      |
| `name_year`     | the same parts; year of birth                       | year known           |
| `name`          | the same parts alone                                | always               |
| `part_dob_head` | one part exact; date; head of the other part(s)     | full date, 2-3 parts |
| `part_dob_tail` | one part exact; date; tail of the other part(s)     | full date, 2-3 parts |

A word whose `j` may be ж (`translit.fold_word_alternative`) adds a second reading to the three
whole-name kinds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from libs.common.identity.dates import BirthDate, parse_dob
from libs.common.identity.fuzzy import head_signature, tail_signature
from libs.common.identity.names import ParsedName, Word, parse_name
from libs.common.identity.ruledata import DATA

_CANONICAL: Final = DATA["canonical"]
# Bumped whenever a rule change alters any key: tokens of two canonicaliser versions never meet.
CANONICAL_VERSION: Final[int] = _CANONICAL["version"]
# Surnames only ever end like this in their feminine form, so folding them to the masculine form
# cannot merge a given name (Valentina/Valentin end in -ina/-in: not folded, not safe).
FEMININE_SURNAME_ENDINGS: Final[tuple[tuple[str, str], ...]] = tuple(
    (entry["feminine"], entry["masculine"]) for entry in _CANONICAL["feminine_surname_endings"]
)
# Endings of surnames that change with sex (the masculine forms of the above, and those).
GENDERED_SURNAME_ENDINGS: Final[tuple[str, ...]] = tuple(_CANONICAL["gendered_surname_endings"])
# A folded surname stem must keep at least this many letters (so the given name Eva stays).
_MIN_STEM: Final[int] = _CANONICAL["min_stem"]
# Whole names with more parts than this get no part keys: too many tokens for too little.
_MAX_PARTS_FOR_PART_KEYS: Final[int] = _CANONICAL["max_parts_for_part_keys"]


class Kind(StrEnum):
    """What a canonical key (and the token made from it) covers."""

    NAME_DOB = "name_dob"
    NAME_YEAR = "name_year"
    NAME = "name"
    PART_DOB_HEAD = "part_dob_head"
    PART_DOB_TAIL = "part_dob_tail"


@dataclass(frozen=True, order=True)
class CanonicalKey:
    """One labelled key; `encode()` gives the bytes that become an OPRF input."""

    kind: Kind
    text: str

    def encode(self) -> bytes:
        """Domain-separated bytes: the canonicaliser version, the kind and the text."""
        return f"lifeline-identity/{CANONICAL_VERSION}/{self.kind.value}/{self.text}".encode()


def fold_surname_gender(part: str) -> str:
    """The masculine form of a part with a feminine-only surname ending; others unchanged."""
    for feminine, masculine in FEMININE_SURNAME_ENDINGS:
        if part.endswith(feminine) and len(part) - len(feminine) >= _MIN_STEM:
            return part[: -len(feminine)] + masculine
    return part


def shows_sex(part: str) -> bool:
    """Whether a part ends like a surname whose form differs for men and women."""
    return any(
        part.endswith(ending) and len(part) - len(ending) >= _MIN_STEM
        for ending in GENDERED_SURNAME_ENDINGS
    )


def _readings(name: ParsedName) -> list[str]:
    """The whole-name texts: sorted gender-folded parts, plus the j-as-ж reading if any."""
    primary = [word.folded for word in name.parts]
    out = [primary]
    if any(word.alternative for word in name.parts):
        out.append([word.alternative or word.folded for word in name.parts])
    return [" ".join(sorted(fold_surname_gender(part) for part in parts)) for parts in out]


def _part_keys(parts: list[str], date: str) -> set[CanonicalKey]:
    """For each part: that part exact, the date, and the head or tail of the rest."""
    keys: set[CanonicalKey] = set()
    for index, anchor in enumerate(parts):
        # The anchor stays unfolded: Golubev/Golubeva keeps a brother and sister apart when
        # the head of their given names (Aleksandr/Aleksandra) does not. Under a surname that
        # shows no sex (Petrosyan, Shevchenko), the head carries the given name's ending.
        rest = "".join(sorted(parts[:index] + parts[index + 1 :]))
        head = head_signature(rest, with_sex=not shows_sex(anchor))
        keys.add(CanonicalKey(Kind.PART_DOB_HEAD, f"{anchor}|{date}|{head}"))
        keys.add(CanonicalKey(Kind.PART_DOB_TAIL, f"{anchor}|{date}|{tail_signature(rest)}"))
    return keys


# The part keys' readings of a word: the folded form, the national form as written (a typo in
# Alena, which is also the Russian Alyona, still meets it), the j-as-ж reading (Jukov + a typo).
# A surname the Turkic rule read enters them as written (`Word.part`).
_READINGS: Final[tuple[Callable[[Word], str], ...]] = (
    lambda word: word.part(word.folded),
    lambda word: word.written or word.folded,
    lambda word: word.part(word.alternative or word.folded),
)


def keys_for(name: ParsedName, dob: BirthDate) -> frozenset[CanonicalKey]:
    """The canonical keys of an already parsed name and date of birth."""
    keys: set[CanonicalKey] = set()
    for text in _readings(name):
        keys.add(CanonicalKey(Kind.NAME, text))
        if dob.year is not None:
            keys.add(CanonicalKey(Kind.NAME_YEAR, f"{text}|{dob.year:04d}"))
        if dob.full is not None:
            keys.add(CanonicalKey(Kind.NAME_DOB, f"{text}|{dob.full.isoformat()}"))
    if dob.full is not None and 2 <= len(name.parts) <= _MAX_PARTS_FOR_PART_KEYS:
        for reading in _READINGS:
            keys |= _part_keys([reading(word) for word in name.parts], dob.full.isoformat())
    return frozenset(keys)


def canonical_keys(name: str, dob: str | None) -> frozenset[CanonicalKey]:
    """Canonical keys of a written name and date of birth (raises InvalidInput on bad input)."""
    return keys_for(parse_name(name), parse_dob(dob))
