"""The match rule: two token sets → strong, possible or none, and which kinds agreed.

Pure and token-only. Tokens of different PRF key versions never compare equal; when both sets
hold several versions (during a key rotation) each shared version is judged on its own and the
strongest answer wins. What a set's kinds reveal is only how precise its date of birth is: a
full date yields `name_dob`, a year `name_year`, no date neither.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Final

from libs.common.identity.canonical import Kind

if TYPE_CHECKING:
    # Only the type: the rule reads kinds, versions and values, and needs no crypto library.
    from libs.common.identity.tokenvalue import Token


class Strength(StrEnum):
    """How sure a match is: strong alerts at once, possible as a lower-priority "check this"."""

    STRONG = "strong"
    POSSIBLE = "possible"
    NONE = "none"


Precision = str  # "full", "year" or "unknown", as read from the kinds present
Condition = Callable[[Precision, Precision], bool]


@dataclass(frozen=True)
class Rule:
    """Give `strength` when a token of one of `kinds` agrees and `when` holds."""

    strength: Strength
    kinds: frozenset[Kind]
    when: Condition
    why: str


def _always(_a: Precision, _b: Precision) -> bool:
    return True


def _one_side_year_only(a: Precision, b: Precision) -> bool:
    # Two full dates that differ must not meet on their year (namesakes born the same year).
    return "year" in (a, b)


def _one_side_undated(a: Precision, b: Precision) -> bool:
    # Two known dates that differ must not meet on the name alone (namesakes).
    return "unknown" in (a, b)


# Checked in order; the first rule that fires decides.
RULES: Final[tuple[Rule, ...]] = (
    Rule(
        Strength.STRONG,
        frozenset({Kind.NAME_DOB}),
        _always,
        "whole name and full date of birth agree",
    ),
    Rule(
        Strength.POSSIBLE,
        frozenset({Kind.PART_DOB_HEAD, Kind.PART_DOB_TAIL}),
        _always,
        "one name part and the full date agree; the other part differs by about one letter",
    ),
    Rule(
        Strength.POSSIBLE,
        frozenset({Kind.NAME_YEAR}),
        _one_side_year_only,
        "whole name and year of birth agree; one side knows only the year",
    ),
    Rule(
        Strength.POSSIBLE,
        frozenset({Kind.NAME}),
        _one_side_undated,
        "whole name agrees; one side has no date of birth",
    ),
)
_RANK: Final = {Strength.STRONG: 2, Strength.POSSIBLE: 1, Strength.NONE: 0}


@dataclass(frozen=True)
class Match:
    """The strength, the kinds that agreed, the key version judged, and the rule's reason."""

    strength: Strength
    agreed: frozenset[Kind]
    key_version: int | None
    reason: str


NO_MATCH: Final = Match(Strength.NONE, frozenset(), None, "no token agrees")


def precision(kinds: Iterable[Kind]) -> Precision:
    """How precise the date of birth behind a token set is, from the kinds it holds."""
    present = set(kinds)
    if Kind.NAME_DOB in present:
        return "full"
    return "year" if Kind.NAME_YEAR in present else "unknown"


def _by_version(tokens: Iterable[Token]) -> dict[int, set[Token]]:
    grouped: dict[int, set[Token]] = defaultdict(set)
    for token in tokens:
        grouped[token.key_version].add(token)
    return grouped


def _judge(a: set[Token], b: set[Token], version: int) -> Match:
    agreed = frozenset(token.kind for token in a & b)
    if not agreed:
        return Match(Strength.NONE, agreed, version, "no token agrees")
    pa, pb = precision(t.kind for t in a), precision(t.kind for t in b)
    for rule in RULES:
        if agreed & rule.kinds and rule.when(pa, pb):
            return Match(rule.strength, agreed, version, rule.why)
    return Match(Strength.NONE, agreed, version, "only kinds that need a missing date agree")


def match(a: Iterable[Token], b: Iterable[Token]) -> Match:
    """Judge two identities from their tokens alone."""
    left, right = _by_version(a), _by_version(b)
    best = NO_MATCH
    for version in sorted(left.keys() & right.keys()):
        result = _judge(left[version], right[version], version)
        if _RANK[result.strength] > _RANK[best.strength] or best is NO_MATCH:
            best = result
    return best
