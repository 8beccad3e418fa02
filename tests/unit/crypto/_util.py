"""Shared helpers for the crypto unit tests."""

from __future__ import annotations

from collections.abc import Iterator


def bit_flips(blob: bytes) -> Iterator[tuple[int, bytes]]:
    """Every variant of `blob` with exactly one bit flipped, with the bit index."""
    for bit in range(len(blob) * 8):
        mutated = bytearray(blob)
        mutated[bit // 8] ^= 1 << (bit % 8)
        yield bit, bytes(mutated)
