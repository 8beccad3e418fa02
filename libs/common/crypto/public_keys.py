"""Checks every Ed25519 and X25519 public key must pass before Lifeline stores or uses it.

A small-order key is not a key: for Ed25519, `S = 0` with `R` of small order verifies under it
for every message (OpenSSL accepts it), so whoever registers one needs no private key at all;
for X25519, every shared secret with it is zero. Neither `cryptography` nor the libsodium that
rbcl bundles (ristretto255 only) exposes these checks, so they are written here: point decoding
per RFC 8032 §5.1.3 and a multiplication by the cofactor, on Python integers (pure and exact;
a check takes ~0.3 ms, and keys that passed are remembered).
"""

from __future__ import annotations

import functools
from typing import Final

from libs.common.crypto.errors import WeakPublicKey

KEY_LEN: Final = 32
_P: Final = 2**255 - 19
_D: Final = -121665 * pow(121666, -1, _P) % _P
_SQRT_M1: Final = pow(2, (_P - 1) // 4, _P)
_IDENTITY: Final = (0, 1)

# Curve25519 u-coordinates of order 1, 2, 4 and 8 (libsodium's blocklist, RFC 7748 §6.1):
# 0, 1, p - 1 and the two order-8 points. Non-canonical spellings (u >= p, or the top bit set,
# which RFC 7748 says to ignore) are refused before this list is consulted, so it covers them.
_LOW_ORDER_U: Final = frozenset(
    {
        0,
        1,
        _P - 1,
        int.from_bytes(
            bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
            "little",
        ),
        int.from_bytes(
            bytes.fromhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
            "little",
        ),
    }
)


# Cached: the token endpoint checks a client's stored key on every request (~0.3 ms uncached).
@functools.lru_cache(maxsize=4096)
def check_ed25519_public(raw: bytes) -> bytes:
    """`raw` if it is a canonical Ed25519 point of large order; WeakPublicKey otherwise."""
    if len(raw) != KEY_LEN:
        raise WeakPublicKey("Ed25519 public keys are 32 bytes")
    point = _decode(raw)
    for _ in range(3):  # times the cofactor 8
        point = _add(point, point)
    if point == _IDENTITY:
        raise WeakPublicKey("small-order Ed25519 public key")
    return raw


def check_x25519_public(raw: bytes) -> bytes:
    """`raw` if it is a canonical X25519 u-coordinate of large order; WeakPublicKey otherwise."""
    if len(raw) != KEY_LEN:
        raise WeakPublicKey("X25519 public keys are 32 bytes")
    u = int.from_bytes(raw, "little")
    if u >= _P:  # includes every value with the top bit set
        raise WeakPublicKey("non-canonical X25519 public key")
    if u in _LOW_ORDER_U:
        raise WeakPublicKey("low-order X25519 public key")
    return raw


def _decode(raw: bytes) -> tuple[int, int]:
    # RFC 8032 §5.1.3, strictly: y < p, x recovered, and no "negative zero" x.
    y = int.from_bytes(raw, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    if y >= _P:
        raise WeakPublicKey("non-canonical Ed25519 public key")
    u, v = (y * y - 1) % _P, (_D * y * y + 1) % _P
    x = u * pow(v, 3, _P) * pow(u * pow(v, 7, _P), (_P - 5) // 8, _P) % _P
    if v * x * x % _P == (-u) % _P:
        x = x * _SQRT_M1 % _P
    if v * x * x % _P != u:
        raise WeakPublicKey("not a point of the Ed25519 curve")
    if x == 0 and sign:
        raise WeakPublicKey("non-canonical Ed25519 public key")
    if x & 1 != sign:
        x = _P - x
    return x, y


def _add(p: tuple[int, int], q: tuple[int, int]) -> tuple[int, int]:
    # Affine twisted Edwards addition (a = -1); complete, since d is not a square mod p.
    (x1, y1), (x2, y2) = p, q
    t = _D * x1 * x2 * y1 * y2 % _P
    x3 = (x1 * y2 + x2 * y1) * pow(1 + t, -1, _P) % _P
    y3 = (y1 * y2 + x1 * x2) * pow(1 - t, -1, _P) % _P
    return x3, y3
