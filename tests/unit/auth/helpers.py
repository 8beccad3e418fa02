"""Test helpers: a settable clock, a counting JWKS source, and a raw JWS forger."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from libs.common.auth import JwksCache, RevocationList, SigningKey, TokenVerifier
from libs.common.auth.scopes import Audience
from libs.common.errors import Unauthenticated, problem

# The one 401 body, whatever failed (outside a request: no request id).
UNAUTHENTICATED = problem("unauthenticated", 401, "authentication required")

ISSUER = "https://sharing.lifeline.test"
OTHER_ISSUER = "https://other-issuer.test"
NOW = 1_750_000_000


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = NOW) -> None:
        self.now = float(now)

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class CountingFetch:
    """A JWKS source that records how often it is asked."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self.calls = 0

    async def __call__(self) -> Mapping[str, Any]:
        self.calls += 1
        return self.document


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def forge(
    header: Mapping[str, Any] | bytes,
    payload: Mapping[str, Any] | bytes,
    key: Ed25519PrivateKey | None,
    *,
    signature: bytes | None = None,
) -> str:
    """A compact JWS with exactly these bytes, Ed25519-signed by `key` unless `signature` given."""
    raw_header = header if isinstance(header, bytes) else json.dumps(header).encode()
    raw_payload = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signing_input = f"{b64(raw_header)}.{b64(raw_payload)}".encode()
    if signature is None:
        assert key is not None
        signature = key.sign(signing_input)
    return f"{signing_input.decode()}.{b64(signature)}"


@dataclass
class Env:
    """A verifier for the intake audience trusting one issuer with one signing key."""

    key: SigningKey
    other_key: SigningKey
    clock: Clock
    fetch: CountingFetch
    other_fetch: CountingFetch
    verifier: TokenVerifier
    revocations: RevocationList
    extra: dict[str, Any] = field(default_factory=dict)

    def header(self, **changes: Any) -> dict[str, Any]:
        header = {"alg": "EdDSA", "typ": "at+jwt", "kid": self.key.kid}
        header.update(changes)
        return {k: v for k, v in header.items() if v is not DROP}

    def claims(self, **changes: Any) -> dict[str, Any]:
        now = int(self.clock())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": "client-1",
            "client_id": "client-1",
            "org": "org-a",
            "aud": [Audience.INTAKE.value],
            "iat": now,
            "nbf": now,
            "exp": now + 300,
            "jti": "jti-0001",
            "scope": "reports:submit",
            "role": "submitter",
            "client_kid": "clientkey1",
        }
        claims.update(changes)
        return {k: v for k, v in claims.items() if v is not DROP}

    def token(self, header: dict[str, Any] | None = None, **claims: Any) -> str:
        return forge(header or self.header(), self.claims(**claims), self.key.private_key)


DROP = object()


def make_env() -> Env:
    clock = Clock()
    key = SigningKey.generate(clock())
    other_key = SigningKey.generate(clock())
    fetch = CountingFetch({"keys": [key.public_jwk()]})
    other_fetch = CountingFetch({"keys": [other_key.public_jwk()]})
    jwks = JwksCache({ISSUER: fetch, OTHER_ISSUER: other_fetch}, clock=clock)
    revocations = RevocationList(clock=clock)
    verifier = TokenVerifier(
        audience=Audience.INTAKE.value, jwks=jwks, revocations=revocations, clock=clock
    )
    return Env(key, other_key, clock, fetch, other_fetch, verifier, revocations)


async def assert_rejected(
    verifier: TokenVerifier, token: object, caplog: pytest.LogCaptureFixture, reason: str
) -> None:
    """The token is refused with the generic 401, for `reason`, and never appears in a log."""
    caplog.clear()
    caplog.set_level(logging.DEBUG, logger="libs.common.auth")
    with pytest.raises(Unauthenticated) as info:
        await verifier.verify(token)
    assert info.value.body() == UNAUTHENTICATED
    messages = [r.getMessage() for r in caplog.records]
    assert f"access token rejected: {reason}" in messages, messages
    if isinstance(token, str):
        for part in token.split("."):
            if len(part) > 8:
                assert all(part not in m for m in messages)
