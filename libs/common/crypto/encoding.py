"""Unambiguous byte encodings shared by the crypto modules: contexts, base64url, JSON, digests."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from typing import TypeAlias

from libs.common.crypto.errors import InvalidKey

JSONValue: TypeAlias = dict[str, "JSONValue"] | list["JSONValue"] | str | int | float | bool | None
ContextPart: TypeAlias = str | bytes | int

_B64U_RE = re.compile(r"[A-Za-z0-9_-]*")
# One type tag per value kind, so the string "5", the bytes b"5" and the int 5 never encode alike.
_TAG_STR, _TAG_BYTES, _TAG_INT = b"s", b"b", b"i"


def lp(data: bytes) -> bytes:
    """Prefix `data` with its length as 4 big-endian bytes."""
    return len(data).to_bytes(4, "big") + data


def encode_context(purpose: str, /, **parts: ContextPart) -> bytes:
    """Encode a purpose and labelled parts canonically (length-prefixed, labels sorted).

    Used for HPKE `info`, AEAD associated data and signed payloads: ("ab", "c") and ("a", "bc")
    encode differently, and the keyword order at the call site does not matter.
    """
    if not purpose:
        raise ValueError("purpose must not be empty")
    out = [lp(purpose.encode()), len(parts).to_bytes(2, "big")]
    for label in sorted(parts):
        value = parts[label]
        # bool is an int subclass; refuse it rather than silently encoding True as 1.
        if isinstance(value, bool):
            raise TypeError(f"context part {label!r} must be str, bytes or int, not bool")
        if isinstance(value, str):
            tag, raw = _TAG_STR, value.encode()
        elif isinstance(value, bytes):
            tag, raw = _TAG_BYTES, value
        elif isinstance(value, int):
            tag, raw = _TAG_INT, str(value).encode()
        else:
            raise TypeError(f"context part {label!r} must be str, bytes or int")
        out += [lp(label.encode()), tag, lp(raw)]
    return b"".join(out)


def b64u_encode(data: bytes) -> str:
    """Base64url without padding (RFC 4648 §5)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str) -> bytes:
    """Strict inverse of `b64u_encode`: no padding, no whitespace, canonical trailing bits."""
    if not _B64U_RE.fullmatch(text) or len(text) % 4 == 1:
        raise InvalidKey("malformed base64url")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidKey("malformed base64url") from None
    # Non-zero unused trailing bits would give two spellings of one key (and one fingerprint
    # per spelling), so only the canonical spelling is accepted.
    if b64u_encode(data) != text:
        raise InvalidKey("non-canonical base64url")
    return data


# Built once: `json.dumps` with any option builds a new encoder per call (a microsecond each,
# fourteen times per stored report).
_CANONICAL = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def canonical_json(value: JSONValue) -> bytes:
    """Deterministic UTF-8 JSON: sorted keys, no whitespace, no NaN/Infinity."""
    return _CANONICAL.encode(value).encode("utf-8")


def fingerprint_of(text_form: str) -> str:
    """SHA-256 of a key's text form, as 16 groups of 4 hex digits (easy to read aloud)."""
    digest = hashlib.sha256(text_form.encode("ascii")).hexdigest()
    return " ".join(digest[i : i + 4] for i in range(0, 64, 4))


def key_id_of(text_form: str) -> bytes:
    """The 16-byte key id: the first half of the key's SHA-256 fingerprint."""
    return hashlib.sha256(text_form.encode("ascii")).digest()[:16]
