"""Tokens: one per canonical key, labelled, batched through any evaluator, never printed."""

from __future__ import annotations

import pytest

from libs.common.errors import InvalidInput
from libs.common.identity import oprf
from libs.common.identity.canonical import Kind, canonical_keys
from libs.common.identity.keyring import PrfKeyRing, new_seed
from libs.common.identity.tokens import LocalEvaluator, tokenise
from libs.common.identity.tokenvalue import Token

KEY = PrfKeyRing().add(7, new_seed())


class CountingEvaluator:
    """Records batch sizes; evaluates like sharing's endpoint would."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def __call__(self, elements: list[bytes]) -> list[bytes]:
        self.batches.append(len(elements))
        return oprf.evaluate(KEY, elements)


def test_one_token_per_canonical_key_labelled_with_kind_and_version() -> None:
    tokens = tokenise([("Lev Skoryakin", "1999-03-14")], LocalEvaluator(KEY), KEY.version)[0]
    keys = canonical_keys("Lev Skoryakin", "1999-03-14")
    assert len(tokens) == len(keys) == 7
    assert sorted(t.kind for t in tokens) == sorted(k.kind for k in keys)
    assert {t.key_version for t in tokens} == {7}
    assert all(len(t.value) == oprf.OUTPUT_BYTES for t in tokens)


def test_tokenise_batches_many_identities_into_few_calls() -> None:
    evaluator = CountingEvaluator()
    identities = [(f"Lev Skoryakin{'a' * (i % 7)}", f"19{50 + i % 40}-03-14") for i in range(700)]
    out = tokenise(identities, evaluator, KEY.version)
    assert len(out) == 700
    assert len(evaluator.batches) == -(-sum(evaluator.batches) // oprf.MAX_BATCH)
    assert max(evaluator.batches) <= oprf.MAX_BATCH


def test_a_short_answer_from_the_evaluator_is_refused() -> None:
    with pytest.raises(InvalidInput):
        tokenise([("Lev Skoryakin", "1999-03-14")], lambda e: e[:-1], KEY.version)


def test_token_text_form_round_trips_and_is_strict() -> None:
    token = next(iter(tokenise([("Lev Skoryakin", None)], LocalEvaluator(KEY), KEY.version)[0]))
    text = token.encode()
    assert text.startswith("name.7.")
    assert Token.decode(text) == token
    for bad in ["", "name.7.", "nope.7." + text.split(".")[2], text + "A", "name.x." + "A" * 86]:
        with pytest.raises(InvalidInput):
            Token.decode(bad)


def test_token_repr_hides_the_value() -> None:
    token = Token(Kind.NAME, 1, b"\x42" * 64)
    assert "42" not in repr(token) and "B" * 8 not in repr(token)


def test_local_evaluator_repr_hides_the_key() -> None:
    assert KEY.secret.hex() not in repr(LocalEvaluator(KEY))
    assert "secret" not in repr(LocalEvaluator(KEY))
