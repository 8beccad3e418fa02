"""Merkle tree heads and consistency proofs over SHA-256, as RFC 9162 (and RFC 6962) define them.

Leaf hash = SHA-256(0x00 || leaf), node hash = SHA-256(0x01 || left || right); the tree head
of n leaves splits at the largest power of two below n. A consistency proof shows that the
tree of size `first` is a prefix of the tree of size `second` with about log2(second) hashes,
so whoever kept an old head can check a new one without reading the entries.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

HASH_LEN = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(leaf: bytes) -> bytes:
    """The hash of one leaf (domain-separated from inner nodes)."""
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an inner node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_hash(leaves: Sequence[bytes], start: int = 0, end: int | None = None) -> bytes:
    """The tree head (MTH) of leaf hashes `leaves[start:end]`."""
    end = len(leaves) if end is None else end
    if end <= start:
        return EMPTY_ROOT
    # Bottom-up, carrying an odd last node up a level: the same tree as RFC 9162's split at
    # the largest power of two, in one pass and without recursion.
    level = list(leaves[start:end])
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def consistency_proof(leaves: Sequence[bytes], first: int) -> list[bytes]:
    """PROOF(first, D[n]) of RFC 9162 §2.1.4.1 for leaf hashes `leaves` (n = len(leaves))."""
    if not 0 <= first <= len(leaves):
        raise ValueError("first must be between 0 and the tree size")
    if first == 0 or first == len(leaves):
        return []
    return _subproof(leaves, first, 0, len(leaves), True)


def _subproof(leaves: Sequence[bytes], m: int, start: int, end: int, complete: bool) -> list[bytes]:
    n = end - start
    if m == n:
        return [] if complete else [root_hash(leaves, start, end)]
    k = _split(n)
    if m <= k:
        return [
            *_subproof(leaves, m, start, start + k, complete),
            root_hash(leaves, start + k, end),
        ]
    return [*_subproof(leaves, m - k, start + k, end, False), root_hash(leaves, start, start + k)]


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True if `proof` shows the tree (first, first_root) is a prefix of (second, second_root).

    RFC 9162 §2.1.4.2. Size 0 is a prefix of everything; equal sizes need equal roots and an
    empty proof; a smaller `second` (a truncated log) never verifies.
    """
    if first < 0 or second < first:
        return False
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof
    if not proof or any(len(h) != HASH_LEN for h in proof):
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # an exact power of two: its head is a node of the new tree
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_root and sr == second_root
