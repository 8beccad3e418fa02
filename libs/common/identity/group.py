"""ristretto255 (RFC 9496) group operations, done by libsodium as bundled in the rbcl wheel.

This is the only module that touches the library, so replacing it (PyNaCl, should it expose
ristretto255 one day, or a system libsodium) changes one file. Elements and scalars are the
32-byte canonical encodings of RFC 9496; scalars are little-endian and reduced modulo the group
order.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Final

import rbcl  # type: ignore[import-untyped]  # ships no type information

ELEMENT_BYTES: Final = 32
SCALAR_BYTES: Final = 32
UNIFORM_BYTES: Final = 64
_IDENTITY: Final = bytes(ELEMENT_BYTES)
_ZERO: Final = bytes(SCALAR_BYTES)

# rbcl writes its bundled libsodium to a temporary file and loads it from there at import; once
# loaded, the file is no longer needed, so it is removed instead of piling up in /tmp.
with contextlib.suppress(KeyError, AttributeError, OSError):
    os.unlink(sys.modules["rbcl._sodium"].lib_path)


class GroupError(ValueError):
    """An input is not a valid element or scalar, or an operation produced the identity."""


def is_element(data: bytes) -> bool:
    """Whether `data` is a canonical encoding of a group element other than the identity."""
    return (
        isinstance(data, bytes)
        and len(data) == ELEMENT_BYTES
        and data != _IDENTITY
        and bool(rbcl.crypto_core_ristretto255_is_valid_point(data))
    )


def element_from_uniform(uniform: bytes) -> bytes:
    """The RFC 9496 one-way map of 64 uniform bytes to an element (hash_to_ristretto255)."""
    if len(uniform) != UNIFORM_BYTES:
        raise GroupError("the one-way map takes 64 bytes")
    return bytes(rbcl.crypto_core_ristretto255_from_hash(uniform))


def scalar_from_uniform(uniform: bytes) -> bytes:
    """64 uniform bytes, read little-endian, reduced modulo the group order."""
    if len(uniform) != UNIFORM_BYTES:
        raise GroupError("scalar reduction takes 64 bytes")
    return bytes(rbcl.crypto_core_ristretto255_scalar_reduce(uniform))


def random_scalar() -> bytes:
    """A uniformly random non-zero scalar from libsodium's CSPRNG."""
    while True:
        scalar = bytes(rbcl.crypto_core_ristretto255_scalar_random())
        if scalar != _ZERO:
            return scalar


def is_scalar(data: bytes) -> bool:
    """Whether `data` is a reduced, non-zero scalar encoding."""
    if not isinstance(data, bytes) or len(data) != SCALAR_BYTES or data == _ZERO:
        return False
    # Reducing a canonical scalar (zero-padded to 64 bytes) leaves it unchanged.
    return scalar_from_uniform(data + bytes(SCALAR_BYTES)) == data


def invert(scalar: bytes) -> bytes:
    """The multiplicative inverse of a non-zero scalar."""
    if not is_scalar(scalar):
        raise GroupError("not a non-zero reduced scalar")
    return bytes(rbcl.crypto_core_ristretto255_scalar_invert(scalar))


def multiply(scalar: bytes, element: bytes) -> bytes:
    """scalar · element; refuses an invalid element and an identity result."""
    if not is_element(element):
        raise GroupError("not a valid group element")
    if not is_scalar(scalar):
        raise GroupError("not a non-zero reduced scalar")
    try:
        return bytes(rbcl.crypto_scalarmult_ristretto255(scalar, element))
    except RuntimeError:
        # libsodium reports an identity result; the group has prime order, so this cannot
        # happen for the inputs checked above, but it must never pass silently.
        raise GroupError("the product is the identity element") from None


def multiply_base(scalar: bytes) -> bytes:
    """scalar · generator."""
    if not is_scalar(scalar):
        raise GroupError("not a non-zero reduced scalar")
    return bytes(rbcl.crypto_scalarmult_ristretto255_base(scalar))
