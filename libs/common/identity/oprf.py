"""RFC 9497 OPRF (mode 0x00, ristretto255-SHA512): client blind/finalize, server evaluate.

The client (SDK) blinds its inputs, sends the blinded elements, and finalizes what the server
sends back; the server (sharing) evaluates blinded elements in batches with its versioned key.
The server never sees an input or an output; the client never holds the key.

Wire format: an element is the base64url (RFC 4648 §5, no padding) of its 32-byte RFC 9496
encoding, 43 characters. Everything else here works on bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

from libs.common.crypto.encoding import b64u_decode, b64u_encode
from libs.common.crypto.errors import InvalidKey
from libs.common.errors import InvalidInput
from libs.common.identity import group

MODE_OPRF: Final = 0x00
SUITE: Final = "ristretto255-SHA512"
CONTEXT: Final = b"OPRFV1-" + bytes([MODE_OPRF]) + b"-" + SUITE.encode()
HASH_TO_GROUP_DST: Final = b"HashToGroup-" + CONTEXT
HASH_TO_SCALAR_DST: Final = b"HashToScalar-" + CONTEXT
DERIVE_KEY_PAIR_DST: Final = b"DeriveKeyPair" + CONTEXT
OUTPUT_BYTES: Final = 64
SEED_BYTES: Final = 32
# One evaluate call handles at most this many elements: a few hundred identities' worth.
MAX_BATCH: Final = 4096
# RFC 9497 inputs are at most 2^16 - 1 bytes (their length is a 2-byte prefix).
MAX_INPUT_BYTES: Final = 0xFFFF


def _i2osp(value: int, length: int) -> bytes:
    return value.to_bytes(length, "big")


def expand_message_xmd(message: bytes, dst: bytes, length: int) -> bytes:
    """RFC 9380 §5.3.1 expand_message_xmd with SHA-512."""
    block, rate = 64, 128  # SHA-512 output and input block sizes
    count = -(-length // block)
    if count > 255 or length > 0xFFFF or len(dst) > 255:
        raise ValueError("expand_message_xmd: length or DST too long")
    dst_prime = dst + _i2osp(len(dst), 1)
    b_0 = hashlib.sha512(bytes(rate) + message + _i2osp(length, 2) + b"\x00" + dst_prime).digest()
    blocks = [hashlib.sha512(b_0 + b"\x01" + dst_prime).digest()]
    for index in range(2, count + 1):
        mixed = bytes(x ^ y for x, y in zip(b_0, blocks[-1], strict=True))
        blocks.append(hashlib.sha512(mixed + _i2osp(index, 1) + dst_prime).digest())
    return b"".join(blocks)[:length]


def hash_to_group(message: bytes) -> bytes:
    """HashToGroup: hash_to_ristretto255 (RFC 9380) with the suite's DST."""
    return group.element_from_uniform(expand_message_xmd(message, HASH_TO_GROUP_DST, 64))


def hash_to_scalar(message: bytes, dst: bytes = HASH_TO_SCALAR_DST) -> bytes:
    """HashToScalar: 64 expanded bytes reduced modulo the group order."""
    return group.scalar_from_uniform(expand_message_xmd(message, dst, 64))


@dataclass(frozen=True)
class KeyPair:
    """A server PRF key with its version; the secret never appears in a repr or a log line."""

    version: int
    secret: bytes = field(repr=False)
    public: bytes


def derive_key_pair(seed: bytes, info: bytes, version: int) -> KeyPair:
    """RFC 9497 DeriveKeyPair: the same seed and info always give the same key."""
    if len(seed) != SEED_BYTES:
        raise ValueError("the seed must be 32 bytes")
    if len(info) > 0xFFFF:
        raise ValueError("info is too long")
    derive_input = seed + _i2osp(len(info), 2) + info
    for counter in range(256):
        secret = hash_to_scalar(derive_input + _i2osp(counter, 1), DERIVE_KEY_PAIR_DST)
        if group.is_scalar(secret):
            return KeyPair(version, secret, group.multiply_base(secret))
    raise ValueError("DeriveKeyPairError")  # probability ~2^-64000: never in practice


@dataclass(frozen=True)
class Blinded:
    """What the client keeps between blind and finalize: its input and blind (never sent)."""

    input: bytes = field(repr=False)
    blind: bytes = field(repr=False)
    element: bytes  # the blinded element, which is what goes to the server


def blind(inputs: Sequence[bytes], blinds: Sequence[bytes] | None = None) -> list[Blinded]:
    """Client Blind for each input; `blinds` fixes the blinds (test vectors only)."""
    if blinds is not None and len(blinds) != len(inputs):
        raise ValueError("one blind per input")
    out = []
    for index, data in enumerate(inputs):
        if len(data) > MAX_INPUT_BYTES:
            raise InvalidInput("an OPRF input is too long")
        scalar = group.random_scalar() if blinds is None else blinds[index]
        # hash_to_group never yields the identity for SHA-512 output (probability 2^-252).
        out.append(Blinded(data, scalar, group.multiply(scalar, hash_to_group(data))))
    return out


def evaluate(key: KeyPair, elements: Sequence[bytes]) -> list[bytes]:
    """Server BlindEvaluate for a batch; raises InvalidInput on a bad element or batch."""
    if len(elements) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH} elements per call")
    if not all(group.is_element(element) for element in elements):
        # Which element failed is not said: the caller learns nothing about the key from it.
        raise InvalidInput("not a valid ristretto255 element", fields=[{"field": "elements"}])
    return [group.multiply(key.secret, element) for element in elements]


def finalize(blinded: Sequence[Blinded], evaluated: Sequence[bytes]) -> list[bytes]:
    """Client Finalize: unblind each evaluated element and hash it with its input."""
    if len(evaluated) != len(blinded):
        raise InvalidInput("the server answered a different number of elements")
    outputs = []
    for state, element in zip(blinded, evaluated, strict=True):
        if not group.is_element(element):
            raise InvalidInput("the server answered an invalid element")
        unblinded = group.multiply(group.invert(state.blind), element)
        outputs.append(
            hashlib.sha512(
                _i2osp(len(state.input), 2)
                + state.input
                + _i2osp(len(unblinded), 2)
                + unblinded
                + b"Finalize"
            ).digest()
        )
    return outputs


def encode_elements(elements: Sequence[bytes]) -> list[str]:
    """Elements in their wire form (base64url, no padding)."""
    return [b64u_encode(element) for element in elements]


def decode_elements(texts: Sequence[str]) -> list[bytes]:
    """Wire-form elements back to bytes; raises InvalidInput on anything malformed."""
    if len(texts) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH} elements per call")
    out = []
    for text in texts:
        try:
            data = b64u_decode(text) if isinstance(text, str) else b""
        except InvalidKey:
            data = b""
        if not group.is_element(data):
            raise InvalidInput("not a valid ristretto255 element", fields=[{"field": "elements"}])
        out.append(data)
    return out
