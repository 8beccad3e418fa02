"""RFC 9162 Merkle tree heads and consistency proofs: the published vectors, brute force, tampering."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from libs.common.crypto.merkle import (
    EMPTY_ROOT,
    consistency_proof,
    leaf_hash,
    node_hash,
    root_hash,
    verify_consistency,
)

# The vectors live in the project (tests/vectors/), so a bare clone checks them.
VECTORS = json.loads(
    (Path(__file__).resolve().parents[2] / "vectors" / "rfc6962-merkle.json").read_text()
)
LEAVES = [leaf_hash(bytes.fromhex(x)) for x in VECTORS["leaves"]]
ROOTS = [bytes.fromhex(x) for x in VECTORS["roots"]]


def _mth(leaves: list[bytes]) -> bytes:
    """RFC 9162's recursive definition, written out as the RFC states it."""
    n = len(leaves)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(_mth(leaves[:k]), _mth(leaves[k:]))


def _hashes(n: int) -> list[bytes]:
    return [leaf_hash(i.to_bytes(4, "big")) for i in range(n)]


def test_empty_tree_head_is_the_hash_of_nothing() -> None:
    assert root_hash([]) == hashlib.sha256(b"").digest() == EMPTY_ROOT


@pytest.mark.parametrize("size", range(1, 9))
def test_tree_heads_match_the_published_vectors(size: int) -> None:
    assert root_hash(LEAVES[:size]) == ROOTS[size - 1]


@pytest.mark.parametrize(
    "case", VECTORS["consistency"], ids=lambda c: f"{c['first']}-{c['second']}"
)
def test_consistency_proofs_match_the_published_vectors(case: dict[str, object]) -> None:
    first, second = int(case["first"]), int(case["second"])  # type: ignore[call-overload]
    proof = [bytes.fromhex(h) for h in case["proof"]]  # type: ignore[attr-defined]
    assert consistency_proof(LEAVES[:second], first) == proof
    assert verify_consistency(first, second, ROOTS[first - 1], ROOTS[second - 1], proof)


def test_every_head_and_proof_up_to_40_leaves_agrees_with_the_rfc_definition() -> None:
    leaves = _hashes(40)
    for second in range(41):
        assert root_hash(leaves[:second]) == _mth(leaves[:second])
        for first in range(second + 1):
            proof = consistency_proof(leaves[:second], first)
            assert verify_consistency(
                first, second, _mth(leaves[:first]), _mth(leaves[:second]), proof
            ), (first, second)


def test_a_rewritten_prefix_is_not_consistent() -> None:
    # The adversary's rewrite: leaf 3 removed and everything after it moved up by one.
    leaves = _hashes(20)
    kept_root = root_hash(leaves[:12])
    rewritten = leaves[:3] + leaves[4:] + _hashes(25)[20:22]
    proof = consistency_proof(rewritten, 12)
    assert not verify_consistency(12, len(rewritten), kept_root, root_hash(rewritten), proof)


def test_a_truncated_tree_is_not_consistent() -> None:
    leaves = _hashes(10)
    assert not verify_consistency(10, 7, root_hash(leaves), root_hash(leaves[:7]), [])


@pytest.mark.parametrize("first,second", [(1, 8), (6, 8), (2, 5), (6, 7), (5, 33), (16, 17)])
def test_a_damaged_proof_does_not_verify(first: int, second: int) -> None:
    # The probes of the reference implementation's own tests (a size alone is not bound by
    # the proof: the signed checkpoint binds it to its root).
    leaves = _hashes(second)
    r1, r2 = root_hash(leaves[:first]), root_hash(leaves)
    proof = consistency_proof(leaves, first)
    assert verify_consistency(first, second, r1, r2, proof)
    bad = [
        (first - 1, second, r1, r2, proof),
        (first + 1, second, r1, r2, proof),
        (first, second * 2, r1, r2, proof),
        (first, second // 2, r1, r2, proof),
        (first, second, r2, r1, proof),
        (first, second, r1, EMPTY_ROOT, proof),
        (first, second, r1, r2, []),
        (first, second, r1, r2, proof[:-1]),
        (first, second, r1, r2, [*proof, r2]),
        (first, second, r1, r2, [r1, *proof]),
        (first, second, r1, r2, [b"", *proof]),
    ]
    for i in range(len(proof)):
        flipped = [*proof]
        flipped[i] = bytes([flipped[i][0] ^ 16]) + flipped[i][1:]
        bad.append((first, second, r1, r2, flipped))
    assert [args[:2] for args in bad if verify_consistency(*args)] == []


def test_trivial_sizes() -> None:
    r = root_hash(_hashes(3))
    assert verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    assert verify_consistency(0, 3, EMPTY_ROOT, r, [])
    assert verify_consistency(3, 3, r, r, [])
    assert not verify_consistency(3, 3, r, EMPTY_ROOT, [])
    assert not verify_consistency(3, 3, r, r, [r])
    assert not verify_consistency(0, 3, EMPTY_ROOT, r, [r])
    with pytest.raises(ValueError):
        consistency_proof(_hashes(3), 4)
