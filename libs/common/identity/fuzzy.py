"""Typo tolerance: edit distance and the partial signatures that survive one typo."""

from __future__ import annotations

from typing import Final

from libs.common.identity.ruledata import DATA

# A word's head: enough letters to tell most names apart, few enough to stay clear of a typo
# in the rest of the word.
HEAD_CHARS: Final[int] = DATA["fuzzy"]["head_chars"]
# A word's tail (with its first letter): what still matches when the typo is in the head.
TAIL_CHARS: Final[int] = DATA["fuzzy"]["tail_chars"]
# The feminine ending of a given name (Aleksandr/Aleksandra, Evgeni/Evgenia): kept in the head
# signature so that brother and sister never share it, even under a surname with no gender.
FEMININE_ENDING: Final[str] = DATA["fuzzy"]["feminine_ending"]


def edit_distance(a: str, b: str) -> int:
    """Optimal-string-alignment distance: insertions, deletions, substitutions, transpositions."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


def head_signature(word: str, *, with_sex: bool = True) -> str:
    """First letters, plus (if asked) whether the word ends like a feminine given name.

    Survives any typo after the head, except (with the sex mark) one on the last letter.
    """
    mark = ("+" if word.endswith(FEMININE_ENDING) else "-") if with_sex else ""
    return word[:HEAD_CHARS] + mark


def tail_signature(word: str) -> str:
    """First letter and last letters: survives a typo anywhere between them."""
    return word[:1] + "…" + word[-TAIL_CHARS:]
