"""The logic of `lifeline identity eval`: tokenise labelled pairs, decide, and tally by class.

Match strengths come from the tokens alone; a pair's `class` and `same_person` labels are read only
to count the results. Nothing here prints or logs a name, a key or a token.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from libs.common.errors import InvalidInput
from libs.common.identity.dates import parse_dob
from libs.common.identity.match import Match, Strength, match
from libs.common.identity.names import parse_name
from libs.common.identity.tokens import Evaluator, tokenise
from libs.common.identity.tokenvalue import Token

# Identities tokenised per evaluator round trip (~7 keys each, so well under oprf.MAX_BATCH
# once split there): big batches keep the per-call overhead negligible.
CHUNK_IDENTITIES: Final = 512
UNLABELLED: Final = "unlabelled"

Identity = tuple[str, str | None]


@dataclass(frozen=True)
class Pair:
    """One line of a pairs file: an id, two identities and an optional class label."""

    id: str
    a: Identity = field(repr=False)
    b: Identity = field(repr=False)
    label: str = UNLABELLED


@dataclass
class Tally:
    """How many pairs of one class got each decision."""

    pairs: int = 0
    strong: int = 0
    possible: int = 0

    @property
    def alerts(self) -> int:
        """Pairs that raised an alert (strong or possible)."""
        return self.strong + self.possible

    @property
    def rate(self) -> float:
        """Share of pairs that raised an alert."""
        return self.alerts / self.pairs if self.pairs else 0.0


@dataclass(frozen=True)
class EvalResult:
    """Match strengths in input order, tallies by class label, and tokenisation figures."""

    decisions: list[tuple[str, Match]]
    tallies: dict[str, Tally]
    identities: int
    tokens: int
    max_tokens: int
    seconds: float

    @property
    def identities_per_second(self) -> float:
        """Identities canonicalised, blinded, evaluated and finalized per second."""
        return self.identities / self.seconds if self.seconds else 0.0


def _identity(value: Any, line: int, side: str) -> Identity:
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        raise InvalidInput(f"line {line}: {side!r} needs a string 'name'")
    dob = value.get("dob")
    if dob is not None and not isinstance(dob, str):
        raise InvalidInput(f"line {line}: {side!r} 'dob' must be a string or null")
    try:
        # Checked here so a bad record is reported by line, not midway through a batch.
        parse_name(value["name"])
        parse_dob(dob)
    except InvalidInput as exc:
        raise InvalidInput(f"line {line}: {side!r}: {exc.detail}") from None
    return value["name"], dob


def read_pairs(lines: Iterable[str]) -> list[Pair]:
    """Parse JSON lines of pairs; raises InvalidInput naming the bad line (never its content)."""
    pairs = []
    for number, text in enumerate(lines, 1):
        if not text.strip():
            continue
        try:
            row = json.loads(text)
        except json.JSONDecodeError:
            raise InvalidInput(f"line {number}: not valid JSON") from None
        if not isinstance(row, dict) or not isinstance(row.get("id"), str):
            raise InvalidInput(f"line {number}: needs a JSON object with a string 'id'")
        label = row.get("class", UNLABELLED)
        if not isinstance(label, str):
            raise InvalidInput(f"line {number}: 'class' must be a string")
        a, b = _identity(row.get("a"), number, "a"), _identity(row.get("b"), number, "b")
        pairs.append(Pair(row["id"], a, b, label))
    return pairs


def run_eval(pairs: list[Pair], evaluate: Evaluator, key_version: int) -> EvalResult:
    """Tokenise every identity through `evaluate`, match each pair, tally by class."""
    identities = [identity for pair in pairs for identity in (pair.a, pair.b)]
    token_sets: list[frozenset[Token]] = []
    started = time.perf_counter()
    for start in range(0, len(identities), CHUNK_IDENTITIES):
        chunk = identities[start : start + CHUNK_IDENTITIES]
        token_sets += tokenise(chunk, evaluate, key_version)
    seconds = time.perf_counter() - started
    decisions = []
    tallies: dict[str, Tally] = {}
    for index, pair in enumerate(pairs):
        result = match(token_sets[2 * index], token_sets[2 * index + 1])
        decisions.append((pair.id, result))
        tally = tallies.setdefault(pair.label, Tally())
        tally.pairs += 1
        tally.strong += result.strength is Strength.STRONG
        tally.possible += result.strength is Strength.POSSIBLE
    sizes = [len(tokens) for tokens in token_sets]
    return EvalResult(
        decisions=decisions,
        tallies=dict(sorted(tallies.items())),
        identities=len(identities),
        tokens=sum(sizes),
        max_tokens=max(sizes, default=0),
        seconds=seconds,
    )


def decision_line(pair_id: str, result: Match) -> str:
    """One JSON line of the decisions file: id, decision, and the kinds that agreed."""
    agreed = sorted(kind.value for kind in result.agreed)
    return json.dumps({"id": pair_id, "decision": result.strength.value, "agreed": agreed})


def _sum(tallies: Iterable[Tally]) -> Tally:
    total = Tally()
    for tally in tallies:
        total.pairs += tally.pairs
        total.strong += tally.strong
        total.possible += tally.possible
    return total


def _line(title: str, measure: str, tally: Tally) -> str:
    return (
        f"  {title:<28} {measure} {tally.rate:7.2%}  ({tally.alerts}/{tally.pairs}; "
        f"strong {tally.strong}, possible {tally.possible})"
    )


def summary_lines(result: EvalResult) -> list[str]:
    """Aggregate figures only: recall per P* class, alert rate per N* class, totals, speed."""
    positives = {k: v for k, v in result.tallies.items() if k.startswith("P")}
    negatives = {k: v for k, v in result.tallies.items() if k.startswith("N")}
    lines = ["Same person (P*): recall = share alerted (strong or possible)"]
    lines += [_line(label, "recall", tally) for label, tally in positives.items()]
    lines.append("Different people (N*): alert rate")
    lines += [_line(label, "alerts", tally) for label, tally in negatives.items()]
    close = _sum(v for k, v in negatives.items() if not k.startswith("N6"))
    lines += [
        "Totals",
        _line("all P*", "recall", _sum(positives.values())),
        _line("N1-N5", "alerts", close),
        _line("N6", "alerts", _sum(v for k, v in negatives.items() if k.startswith("N6"))),
    ]
    if others := [v for k, v in result.tallies.items() if k[:1] not in ("P", "N")]:
        lines.append(_line("other/unlabelled", "alerts", _sum(others)))
    mean = result.tokens / result.identities if result.identities else 0.0
    lines += [
        f"Tokens per identity: mean {mean:.2f}, max {result.max_tokens}",
        f"Identities tokenised: {result.identities} in {result.seconds:.1f} s "
        f"({result.identities_per_second:.0f}/s; canonicalise, blind, evaluate, finalize)",
    ]
    return lines
