"""Identity tokens made: each the OPRF output of one canonical key (the value: `tokenvalue`).

`tokenise` runs the client side (canonicalise, blind, finalize) around any evaluator: the
in-process `LocalEvaluator` here, or one that posts the blinded elements to sharing's batch
endpoint. Evaluators take and return 32-byte elements; the HTTP one encodes them with
`oprf.encode_elements`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from libs.common.identity import oprf
from libs.common.identity.canonical import CanonicalKey, canonical_keys
from libs.common.identity.tokenvalue import Token

Evaluator = Callable[[list[bytes]], list[bytes]]


@dataclass(frozen=True)
class LocalEvaluator:
    """Evaluates in process with a key held here: for tests, the eval command and sharing."""

    key: oprf.KeyPair = field(repr=False)

    @property
    def key_version(self) -> int:
        """The version of the key this evaluator uses."""
        return self.key.version

    def __call__(self, elements: list[bytes]) -> list[bytes]:
        """Evaluate a batch (at most `oprf.MAX_BATCH` elements)."""
        return oprf.evaluate(self.key, elements)


@dataclass(frozen=True)
class Prepared:
    """Blinded canonical keys of several identities, waiting for their evaluation."""

    groups: list[list[CanonicalKey]]
    blinded: list[oprf.Blinded] = field(repr=False)

    def batches(self) -> list[list[bytes]]:
        """The blinded elements in batches an evaluator accepts."""
        elements = [state.element for state in self.blinded]
        return [elements[i : i + oprf.MAX_BATCH] for i in range(0, len(elements), oprf.MAX_BATCH)]

    def finish(self, evaluated: Sequence[bytes], key_version: int) -> list[frozenset[Token]]:
        """Unblind the evaluated elements (in batch order) into one token set per identity."""
        outputs = oprf.finalize(self.blinded, evaluated)
        out: list[frozenset[Token]] = []
        position = 0
        for group in self.groups:
            values = outputs[position : position + len(group)]
            out.append(
                frozenset(
                    Token(key.kind, key_version, value)
                    for key, value in zip(group, values, strict=True)
                )
            )
            position += len(group)
        return out


def prepare(identities: Sequence[tuple[str, str | None]]) -> Prepared:
    """Canonicalise and blind (name, dob) identities: nothing here leaves the client unblinded."""
    groups = [sorted(canonical_keys(name, dob)) for name, dob in identities]
    flat = [key for group in groups for key in group]
    return Prepared(groups, oprf.blind([key.encode() for key in flat]))


def tokenise(
    identities: Sequence[tuple[str, str | None]], evaluate: Evaluator, key_version: int
) -> list[frozenset[Token]]:
    """Token sets of (name, dob) identities, evaluating their keys in as few calls as possible.

    `key_version` must be the version the evaluator uses: the caller pins it (sharing's
    endpoint evaluates with the version asked for), so a token is never mislabelled.
    """
    prepared = prepare(identities)
    evaluated = [element for batch in prepared.batches() for element in evaluate(batch)]
    return prepared.finish(evaluated, key_version)
