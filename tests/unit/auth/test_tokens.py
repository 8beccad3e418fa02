"""Minting access tokens and verifying RFC 7523 client assertions."""

from __future__ import annotations

import json
import logging

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from libs.common.auth import (
    JwksCache,
    SigningKey,
    TokenVerifier,
    averify_client_assertion,
    mint_access_token,
    verify_client_assertion,
)
from libs.common.auth.scopes import Audience, Scope
from libs.common.errors import Unauthenticated
from libs.sdk.auth import make_client_assertion
from libs.sdk.credentials import key_id
from tests.unit.auth.helpers import ISSUER, NOW, Clock, CountingFetch, forge

ENDPOINT = "https://sharing.lifeline.test/oauth/token"


def _mint(key: SigningKey, **changes: object) -> str:
    args: dict[str, object] = {
        "issuer": ISSUER,
        "subject": "client-1",
        "audiences": [Audience.INTAKE, Audience.ALERTS],
        "scopes": [Scope.REPORTS_SUBMIT, Scope.ALERTS_READ],
        "lifetime": 600,
        "now": NOW + 0.9,
        "org": "org-a",
        "role": "lawyer",
        "client_kid": "ckid1",
    }
    args.update(changes)
    return mint_access_token(key.private_key, key.kid, **args)  # type: ignore[arg-type]


def test_minted_token_has_the_rfc9068_shape() -> None:
    key = SigningKey.generate(NOW)
    token = _mint(key, jti="fixed-jti")
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "EdDSA", "typ": "at+jwt", "kid": key.kid}
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims == {
        "iss": ISSUER,
        "sub": "client-1",
        "client_id": "client-1",
        "org": "org-a",
        "role": "lawyer",
        "aud": ["lifeline-intake", "lifeline-alerts"],
        "iat": NOW,
        "nbf": NOW,
        "exp": NOW + 600,
        "jti": "fixed-jti",
        "scope": "alerts:read reports:submit",
        "client_kid": "ckid1",
    }


async def test_minted_token_verifies_for_each_audience_named() -> None:
    key = SigningKey.generate(NOW)
    clock = Clock()
    token = _mint(key)
    for audience in ("lifeline-intake", "lifeline-alerts"):
        jwks = JwksCache({ISSUER: CountingFetch({"keys": [key.public_jwk()]})}, clock=clock)
        principal = await TokenVerifier(audience=audience, jwks=jwks, clock=clock).verify(token)
        assert principal.scopes == {"reports:submit", "alerts:read"}
    jwks = JwksCache({ISSUER: CountingFetch({"keys": [key.public_jwk()]})}, clock=clock)
    with pytest.raises(Unauthenticated):
        await TokenVerifier(audience="lifeline-sharing", jwks=jwks, clock=clock).verify(token)


def test_jtis_are_unique() -> None:
    key = SigningKey.generate(NOW)
    jtis = {jwt.decode(_mint(key), options={"verify_signature": False})["jti"] for _ in range(50)}
    assert len(jtis) == 50


@pytest.mark.parametrize(
    "changes",
    [
        {"lifetime": 601},
        {"lifetime": 0},
        {"scopes": ["reports:delete"]},
        {"audiences": []},
        {"subject": "client 1"},
        {"org": ""},
        {"client_kid": "../x"},
    ],
)
def test_mint_refuses_out_of_policy_requests(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        _mint(SigningKey.generate(NOW), **changes)


# --- client assertions ---------------------------------------------------------------------


class Registry:
    """A stand-in for sharing's client-key registry."""

    def __init__(self) -> None:
        self.key = Ed25519PrivateKey.generate()
        self.kid = key_id(self.key)
        self.lookups: list[tuple[str, str]] = []

    def lookup(self, client_id: str, kid: str) -> object:
        self.lookups.append((client_id, kid))
        if client_id == "client-1" and kid == self.kid:
            return self.key.public_key()
        return None

    def assertion(self, **claims: object) -> str:
        base: dict[str, object] = {
            "iss": "client-1",
            "sub": "client-1",
            "aud": ENDPOINT,
            "iat": NOW,
            "exp": NOW + 60,
            "jti": "assertion-1",
        }
        base.update(claims)
        base = {k: v for k, v in base.items() if v is not None}
        header = {"alg": "EdDSA", "typ": "client-authentication+jwt", "kid": self.kid}
        return forge(header, base, self.key)


def _verify(registry: Registry, assertion: str, now: float = NOW) -> object:
    return verify_client_assertion(assertion, ENDPOINT, registry.lookup, now)  # type: ignore[arg-type]


def test_sdk_assertion_verifies_and_returns_jti_and_exp() -> None:
    registry = Registry()
    assertion = make_client_assertion(registry.key, registry.kid, "client-1", ENDPOINT, now=NOW)
    claims = _verify(registry, assertion)
    assert claims.client_id == "client-1"  # type: ignore[attr-defined]
    assert claims.kid == registry.kid  # type: ignore[attr-defined]
    assert claims.exp == NOW + 60  # type: ignore[attr-defined]
    assert len(claims.jti) >= 22  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "claims",
    [
        {"jti": None},
        {"jti": ""},
        {"jti": 5},
        {"aud": "https://sharing.lifeline.test/oauth/token/"},
        {"aud": "https://evil.example/token"},
        {"aud": [ENDPOINT, "https://evil.example/token"]},
        {"aud": None},
        {"exp": NOW + 301},
        {"exp": NOW + 86400, "iat": NOW + 86000},
        {"exp": NOW - 31},
        {"exp": None},
        {"exp": "soon"},
        {"exp": 1e30},
        {"iat": NOW + 120, "exp": NOW + 180},
        {"nbf": NOW + 120},
        {"iss": "client-2"},
        {"sub": "client-2"},
        {"sub": None},
        {"iss": "client 1", "sub": "client 1"},
    ],
    ids=str,
)
def test_bad_assertions_are_refused(claims: dict[str, object]) -> None:
    registry = Registry()
    with pytest.raises(Unauthenticated):
        _verify(registry, registry.assertion(**claims))


def test_assertion_for_a_known_client_with_an_unknown_kid_is_refused() -> None:
    registry = Registry()
    stranger = Ed25519PrivateKey.generate()
    assertion = make_client_assertion(stranger, key_id(stranger), "client-1", ENDPOINT, now=NOW)
    with pytest.raises(Unauthenticated):
        _verify(registry, assertion)


def test_assertion_signed_by_another_key_under_the_registered_kid_is_refused() -> None:
    registry = Registry()
    impostor = Ed25519PrivateKey.generate()
    assertion = make_client_assertion(impostor, registry.kid, "client-1", ENDPOINT, now=NOW)
    with pytest.raises(Unauthenticated):
        _verify(registry, assertion)


def test_structurally_bad_assertion_never_reaches_the_registry() -> None:
    registry = Registry()
    for bad in (registry.assertion(jti=None), registry.assertion(aud="x"), "a.b.c", None):
        with pytest.raises(Unauthenticated):
            _verify(registry, bad)  # type: ignore[arg-type]
    assert registry.lookups == []


@pytest.mark.parametrize(
    "header_changes",
    [
        {"typ": "at+jwt"},
        {"typ": "application/AT+JWT"},
        {"alg": "none"},
        {"alg": "HS256"},
        {"jku": "https://evil.example/jwks"},
        {"jwk": {"kty": "OKP"}},
        {"crit": ["exp"]},
        {"kid": None},
        {"kid": "../../etc/passwd"},
    ],
    ids=str,
)
def test_assertion_headers_are_checked(header_changes: dict[str, object]) -> None:
    registry = Registry()
    header = {"alg": "EdDSA", "kid": registry.kid, **header_changes}
    header = {k: v for k, v in header.items() if v is not None}
    token = forge(header, json.loads(_payload(registry)), registry.key)
    with pytest.raises(Unauthenticated):
        _verify(registry, token)
    assert registry.lookups == []


def _payload(registry: Registry) -> str:
    token = registry.assertion()
    body = token.split(".")[1]
    return jwt.utils.base64url_decode(body).decode()


@pytest.mark.parametrize("typ", [None, "JWT", "jwt", "client-authentication+jwt"])
def test_assertion_typ_variants_from_other_libraries_are_accepted(typ: str | None) -> None:
    registry = Registry()
    header = {"alg": "EdDSA", "kid": registry.kid, "x-tool": "partner-script"}
    if typ is not None:
        header["typ"] = typ
    token = forge(header, json.loads(_payload(registry)), registry.key)
    _verify(registry, token)


def test_lookup_may_return_several_keys_during_rotation() -> None:
    registry = Registry()
    old = Ed25519PrivateKey.generate()
    assertion = registry.assertion()
    claims = verify_client_assertion(
        assertion, ENDPOINT, lambda c, k: [old.public_key(), registry.key.public_key()], NOW
    )
    assert claims.jti == "assertion-1"
    with pytest.raises(Unauthenticated):
        verify_client_assertion(assertion, ENDPOINT, lambda c, k: [old.public_key()], NOW)
    with pytest.raises(Unauthenticated):
        verify_client_assertion(assertion, ENDPOINT, lambda c, k: [], NOW)


def test_max_lifetime_can_only_be_tightened() -> None:
    registry = Registry()
    assertion = registry.assertion(exp=NOW + 120)
    with pytest.raises(Unauthenticated):
        verify_client_assertion(assertion, ENDPOINT, registry.lookup, NOW, max_lifetime=60)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        verify_client_assertion(assertion, ENDPOINT, registry.lookup, NOW, max_lifetime=3600)  # type: ignore[arg-type]


async def test_async_lookup_variant() -> None:
    registry = Registry()

    async def lookup(client_id: str, kid: str) -> object:
        return registry.lookup(client_id, kid)

    claims = await averify_client_assertion(registry.assertion(), ENDPOINT, lookup, NOW)  # type: ignore[arg-type]
    assert (claims.client_id, claims.jti, claims.exp) == ("client-1", "assertion-1", NOW + 60)
    with pytest.raises(Unauthenticated):
        await averify_client_assertion(registry.assertion(jti=None), ENDPOINT, lookup, NOW)  # type: ignore[arg-type]


def test_rejection_logs_a_code_never_the_assertion(caplog) -> None:
    caplog.set_level(logging.DEBUG, logger="libs.common.auth")
    registry = Registry()
    assertion = registry.assertion(aud="https://evil.example/token")
    with pytest.raises(Unauthenticated):
        _verify(registry, assertion)
    assert "client assertion rejected: aud" in caplog.text
    assert all(part not in caplog.text for part in assertion.split("."))
