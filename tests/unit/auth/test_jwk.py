"""JWK conversion, RFC 7638 thumbprints and strict base64url."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from libs.common.auth.jwk import (
    b64url_decode,
    ed25519_public_jwk,
    is_safe_kid,
    jwk_thumbprint,
    public_key_from_jwk,
)
from libs.common.auth.scopes import ALL_AUDIENCES, ALL_SCOPES, format_scope, parse_scope

# RFC 8037 Appendix A.2 / A.3.
RFC8037_JWK = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_thumbprint_matches_rfc8037_example() -> None:
    assert jwk_thumbprint(RFC8037_JWK) == RFC8037_THUMBPRINT
    key = public_key_from_jwk(RFC8037_JWK)
    assert ed25519_public_jwk(key)["kid"] == RFC8037_THUMBPRINT


def test_public_jwk_round_trip() -> None:
    public = Ed25519PrivateKey.generate().public_key()
    jwk = ed25519_public_jwk(public)
    assert public_key_from_jwk(jwk).public_bytes_raw() == public.public_bytes_raw()


@pytest.mark.parametrize(
    "jwk",
    [
        {**RFC8037_JWK, "kty": "EC"},
        {**RFC8037_JWK, "crv": "Ed448"},
        {**RFC8037_JWK, "crv": "X25519"},
        {**RFC8037_JWK, "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"},
        {**RFC8037_JWK, "use": "enc"},
        {**RFC8037_JWK, "alg": "ES256"},
        {**RFC8037_JWK, "key_ops": ["sign"]},
        {**RFC8037_JWK, "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHUR"},
        {**RFC8037_JWK, "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo="},
        {"kty": "OKP", "crv": "Ed25519"},
        {"kty": "OKP", "crv": "Ed25519", "x": 5},
    ],
    ids=str,
)
def test_unusable_jwks_are_refused(jwk: dict[str, object]) -> None:
    with pytest.raises((ValueError, TypeError)):
        public_key_from_jwk(jwk)


@pytest.mark.parametrize("text", ["a=", "a+b", "a/b", "a b", "A", "AB==", "AF"])
def test_b64url_decode_is_strict(text: str) -> None:
    with pytest.raises(ValueError):
        b64url_decode(text)


def test_safe_kid() -> None:
    assert is_safe_kid(RFC8037_THUMBPRINT)
    for bad in ("", "a" * 65, "a/b", "a.b", "a b", None, 1, "ü"):
        assert not is_safe_kid(bad)


def test_scope_and_audience_names() -> None:
    assert set(ALL_SCOPES) == {
        "reports:submit",
        "reports:read",
        "reports:manage",
        "clients:manage",
        "watchlist:manage",
        "escalation:manage",
        "alerts:read",
        "alerts:ack",
        "admin",
    }
    assert set(ALL_AUDIENCES) == {"lifeline-intake", "lifeline-sharing", "lifeline-alerts"}
    assert parse_scope("a  b c") == {"a", "b", "c"}
    assert format_scope(["reports:read", "admin", "admin"]) == "admin reports:read"
