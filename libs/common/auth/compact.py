"""Strict parsing of compact JWS tokens: everything here runs before any key is looked up."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn, TypeGuard

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from libs.common.auth.jwk import b64url_decode, is_safe_kid
from libs.common.errors import Unauthenticated

log = logging.getLogger("libs.common.auth")

MAX_TOKEN_BYTES = 8192
# The only algorithm we ever accept. Signatures are checked with PyJWT's EdDSA implementation
# chosen here, never looked up from the token's `alg`, so even a mistake in the header check
# below could not reach an HMAC or RSA code path (RFC 8725 §3.1).
ALGORITHM = "EdDSA"
# Headers that make a verifier fetch or trust a key named by the token itself (RFC 8725 §3.10),
# or change how the payload is read (b64, zip); a token carrying any of them is refused.
FORBIDDEN_HEADERS = frozenset({"jku", "x5u", "jwk", "x5c", "x5t", "x5t#S256", "b64", "zip", "enc"})
# NumericDate bounds: reject negatives and values no clock will reach (e.g. 1e30 as an int).
MAX_NUMERIC_DATE = 2**40
# Client and partner ids reach registry queries and log lines; keep them to a plain alphabet.
_SAFE_ID = re.compile(r"[A-Za-z0-9._~:-]{1,128}")
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")  # RFC 6749 §3.3 scope-token
_EDDSA = jwt.PyJWS(algorithms=[ALGORITHM]).get_algorithm_by_name(ALGORITHM)


class Rejected(Exception):
    """Internal: why a token failed, as a short code; converted to `Unauthenticated`."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def reject(code: str) -> NoReturn:
    """Abort verification with a short reason code (for debug logs only)."""
    raise Rejected(code)


def unauthenticated(code: str, what: str) -> Unauthenticated:
    """Log the reason code at debug level (never the token) and build the generic 401."""
    log.debug("%s rejected: %s", what, code, extra={"reason": code})
    return Unauthenticated()


@dataclass(frozen=True, slots=True)
class CompactJws:
    """A parsed but not yet verified JWS."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes


def parse_compact(token: object, *, max_bytes: int = MAX_TOKEN_BYTES) -> CompactJws:
    """Split and decode a compact JWS, refusing anything oversized, odd or ambiguous."""
    if not isinstance(token, str):
        reject("not_a_string")
    # Length first, so an 8 MB header costs nothing; ASCII means characters == bytes.
    if len(token) > max_bytes:
        reject("too_large")
    if not token.isascii():
        reject("not_ascii")
    parts = token.split(".")
    if len(parts) != 3 or not all(parts):
        reject("malformed")
    try:
        header_bytes = b64url_decode(parts[0])
        payload_bytes = b64url_decode(parts[1])
        signature = b64url_decode(parts[2])
    except ValueError:
        reject("bad_base64")
    header, payload = _json_object(header_bytes), _json_object(payload_bytes)
    signing_input = token[: len(parts[0]) + 1 + len(parts[1])].encode("ascii")
    return CompactJws(header, payload, signing_input, signature)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json.loads keeps the last of two equal names, while other parsers keep the first; a token
    # whose meaning depends on the parser is refused (RFC 7515 §5.2 and RFC 8725 §3.1).
    result = dict(pairs)
    if len(result) != len(pairs):
        reject("duplicate_member")
    return result


def _no_constants(name: str) -> NoReturn:
    reject("non_json_number")


def _json_object(data: bytes) -> dict[str, Any]:
    try:
        # Decoding explicitly as UTF-8 stops json.loads from guessing UTF-16/32 (RFC 8259 §8.1).
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        reject("not_utf8")
    if text.startswith("\ufeff"):
        reject("bom")
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except (ValueError, RecursionError):
        reject("bad_json")
    if not isinstance(value, dict):
        reject("not_an_object")
    return value


def normalise_typ(typ: object) -> str | None:
    """`typ` compared case-insensitively without an `application/` prefix (RFC 7515 §4.1.9)."""
    if typ is None:
        return None
    if not isinstance(typ, str):
        reject("bad_typ")
    lowered = typ.lower()
    return lowered.removeprefix("application/")


def check_header(
    header: Mapping[str, Any],
    *,
    typ_ok: Callable[[str | None], bool],
    allowed: frozenset[str] | None,
) -> str:
    """Enforce alg=EdDSA, a safe kid, an acceptable typ, no key-fetching or crit headers."""
    if header.get("alg") != ALGORITHM:
        reject("alg")
    if FORBIDDEN_HEADERS.intersection(header):
        reject("forbidden_header")
    if "crit" in header:
        # We implement no JWS extensions, so every critical one is unknown (RFC 7515 §4.1.11).
        reject("crit")
    if allowed is not None and not allowed.issuperset(header):
        reject("unexpected_header")
    if not typ_ok(normalise_typ(header.get("typ"))):
        reject("typ")
    kid = header.get("kid")
    if not is_safe_kid(kid):
        reject("kid")
    return kid


def verify_signature(jws: CompactJws, key: Ed25519PublicKey) -> None:
    """Check the signature with PyJWT's EdDSA algorithm and an Ed25519 key from our JWKS."""
    try:
        valid = _EDDSA.verify(jws.signing_input, key, jws.signature)
    except (jwt.PyJWTError, ValueError, TypeError):
        valid = False
    if not valid:
        reject("signature")


def numeric_date(claims: Mapping[str, Any], name: str) -> int:
    """A required integer NumericDate in [0, 2**40]; strings, floats, booleans, 1e30 all fail."""
    value = claims.get(name)
    # type() rather than isinstance: True is an int to Python but not a date to anyone.
    if type(value) is not int or not 0 <= value <= MAX_NUMERIC_DATE:
        reject(f"bad_{name}")
    return value


def optional_numeric_date(claims: Mapping[str, Any], name: str) -> int | None:
    """Like `numeric_date`, but an absent claim is None (a present `null` still fails)."""
    return numeric_date(claims, name) if name in claims else None


def bounded_str(claims: Mapping[str, Any], name: str, *, max_len: int = 256) -> str:
    """A required non-empty string claim of bounded length."""
    value = claims.get(name)
    if not isinstance(value, str) or not 0 < len(value) <= max_len:
        reject(f"bad_{name}")
    return value


def safe_id(claims: Mapping[str, Any], name: str) -> str:
    """A required client or partner id claim in the plain id alphabet."""
    value = claims.get(name)
    if not is_safe_id(value):
        reject(f"bad_{name}")
    return value


def is_safe_id(value: object) -> TypeGuard[str]:
    """True for 1-128 characters of letters, digits and `._~:-`."""
    return isinstance(value, str) and _SAFE_ID.fullmatch(value) is not None


def audiences(claims: Mapping[str, Any], *, max_items: int = 8) -> tuple[str, ...]:
    """The `aud` claim as a tuple: a string or a short non-empty list of strings."""
    aud = claims.get("aud")
    if isinstance(aud, str):
        return (aud,)
    if (
        not isinstance(aud, list)
        or not 0 < len(aud) <= max_items
        or not all(isinstance(a, str) for a in aud)
    ):
        reject("bad_aud")
    return tuple(aud)


def scopes(claims: Mapping[str, Any], *, max_len: int = 1024) -> frozenset[str]:
    """The space-separated `scope` claim as a set of well-formed scope tokens."""
    value = claims.get("scope")
    if not isinstance(value, str) or len(value) > max_len:
        reject("bad_scope")
    names = value.split(" ") if value else []
    if not all(_SCOPE_TOKEN.fullmatch(n) for n in names):
        reject("bad_scope")
    return frozenset(names)
