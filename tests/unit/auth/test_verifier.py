"""The verifier's accepted path, result cache, revocation and JWKS refresh behaviour."""

from __future__ import annotations

import asyncio
import logging

import pytest

from libs.common.auth import (
    JwksCache,
    RevocationKind,
    SigningKey,
    TokenVerifier,
    revocation_event_data,
)
from libs.common.auth import compact as compact_module
from libs.common.errors import Unauthenticated
from tests.unit.auth.helpers import ISSUER, Clock, CountingFetch, Env, assert_rejected, forge


async def test_valid_token_gives_principal(env: Env) -> None:
    principal = await env.verifier.verify(env.token(scope="reports:submit reports:read"))
    assert principal.client_id == "client-1"
    assert principal.partner_id == "org-a"
    assert principal.scopes == frozenset({"reports:submit", "reports:read"})
    assert principal.jti == "jti-0001"
    assert principal.exp == int(env.clock()) + 300
    assert principal.issuer == ISSUER
    assert principal.client_kid == "clientkey1"
    assert principal.signing_kid == env.key.kid
    assert principal.has_scopes("reports:read")
    assert not principal.has_scopes("admin")
    with pytest.raises(AttributeError):
        principal.partner_id = "org-b"  # type: ignore[misc]


@pytest.mark.parametrize("typ", ["at+jwt", "AT+JWT", "application/at+jwt", "Application/AT+jwt"])
async def test_typ_is_case_insensitive_with_optional_prefix(env: Env, typ: str) -> None:
    await env.verifier.verify(env.token(env.header(typ=typ)))


async def test_string_audience_and_multi_audience_are_accepted(env: Env) -> None:
    await env.verifier.verify(env.token(aud="lifeline-intake"))
    await env.verifier.verify(env.token(aud=["lifeline-alerts", "lifeline-intake"], jti="j2"))


async def test_leeway_allows_small_clock_skew(env: Env) -> None:
    now = int(env.clock())
    await env.verifier.verify(env.token(iat=now + 20, nbf=now + 20, exp=now + 320))
    await env.verifier.verify(env.token(iat=now - 320, nbf=now - 320, exp=now - 20))


async def test_cached_verification_skips_the_signature_check(env: Env, monkeypatch) -> None:
    calls = []
    real = compact_module.verify_signature
    monkeypatch.setattr(
        compact_module, "verify_signature", lambda jws, key: calls.append(1) or real(jws, key)
    )
    token = env.token()
    first = await env.verifier.verify(token)
    second = await env.verifier.verify(token)
    assert first is second
    assert len(calls) == 1


async def test_cached_token_stops_working_at_exp(env: Env, caplog) -> None:
    token = env.token()
    await env.verifier.verify(token)
    env.clock.advance(300 + 30)
    await assert_rejected(env.verifier, token, caplog, "cached_expired_or_revoked")
    # The entry is gone; a second try runs the full checks and fails on expiry.
    await assert_rejected(env.verifier, token, caplog, "expired")


async def test_cache_is_bounded(env: Env) -> None:
    verifier = TokenVerifier(
        audience="lifeline-intake", jwks=env.verifier.jwks, cache_size=2, clock=env.clock
    )
    tokens = [env.token(jti=f"j{i}") for i in range(3)]
    for token in tokens:
        await verifier.verify(token)
    assert len(verifier._cache) == 2


@pytest.mark.parametrize(
    "kind,ident",
    [
        (RevocationKind.CLIENT, "client-1"),
        (RevocationKind.CLIENT_KEY, "clientkey1"),
        (RevocationKind.ORG, "org-a"),
        (RevocationKind.SIGNING_KEY, None),
    ],
)
async def test_revocation_rejects_cached_tokens_at_once(
    env: Env, kind: RevocationKind, ident: str | None, caplog
) -> None:
    token = env.token()
    await env.verifier.verify(token)  # now cached
    env.clock.advance(5)
    env.revocations.apply(revocation_event_data(kind, ident or env.key.kid, env.clock()))
    await assert_rejected(env.verifier, token, caplog, "cached_expired_or_revoked")
    await assert_rejected(env.verifier, token, caplog, "revoked")
    # Tokens issued after the revocation and its grace (e.g. the client was re-enabled) are
    # fine, except under a revoked signing key, whose iat a forger could choose.
    env.clock.advance(3)
    if kind is RevocationKind.SIGNING_KEY:
        await assert_rejected(env.verifier, env.token(jti="after"), caplog, "revoked")
    else:
        await env.verifier.verify(env.token(jti="after"))


async def test_revocation_of_another_client_does_not_affect_this_one(env: Env) -> None:
    token = env.token()
    env.revocations.revoke(RevocationKind.CLIENT, "client-2", env.clock() + 1)
    env.revocations.revoke(RevocationKind.ORG, "org-b", env.clock() + 1)
    await env.verifier.verify(token)


async def test_token_minted_in_the_revocation_second_but_before_it_is_rejected(
    env: Env, caplog
) -> None:
    env.clock.now = 1_750_000_000.2
    token = env.token()  # iat = ...000
    env.revocations.revoke(RevocationKind.CLIENT, "client-1", 1_750_000_000.7)
    await assert_rejected(env.verifier, token, caplog, "revoked")


async def test_unknown_kid_refreshes_jwks_once_then_rate_limits(env: Env, caplog) -> None:
    await env.verifier.verify(env.token())
    assert env.fetch.calls == 1
    rotated = SigningKey.generate(env.clock())
    env.fetch.document = {"keys": [env.key.public_jwk(), rotated.public_jwk()]}
    token = forge(env.header(kid=rotated.kid), env.claims(), rotated.private_key)
    # Within 30 s of the last fetch the unknown kid cannot trigger another one...
    await assert_rejected(env.verifier, token, caplog, "unknown_kid")
    assert env.fetch.calls == 1
    env.clock.advance(30)
    # ...after it, one refresh picks up the newly published key.
    await env.verifier.verify(token)
    assert env.fetch.calls == 2
    for i in range(20):
        bogus = forge(env.header(kid=f"made-up-{i}"), env.claims(), rotated.private_key)
        await assert_rejected(env.verifier, bogus, caplog, "unknown_kid")
    assert env.fetch.calls == 2


async def test_concurrent_unknown_kids_share_one_fetch(env: Env) -> None:
    gate = asyncio.Event()
    fetch = CountingFetch({"keys": [env.key.public_jwk()]})

    async def slow_fetch() -> object:
        await gate.wait()
        return await fetch()

    verifier = TokenVerifier(
        audience="lifeline-intake",
        jwks=JwksCache({ISSUER: slow_fetch}, clock=env.clock),
        clock=env.clock,
    )
    tasks = [asyncio.create_task(verifier.verify(env.token(jti=f"j{i}"))) for i in range(10)]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*tasks)
    assert len(results) == 10
    assert fetch.calls == 1


async def test_failing_or_hanging_fetch_keeps_old_keys(env: Env, caplog) -> None:
    async def broken() -> dict[str, object]:
        raise OSError("connection refused")

    async def hanging() -> dict[str, object]:
        await asyncio.sleep(3600)
        return {}

    for fetch in (broken, hanging):
        clock = Clock()
        jwks = JwksCache({ISSUER: fetch}, clock=clock, fetch_timeout=0.05)
        jwks.load(ISSUER, {"keys": [env.key.public_jwk()]})
        verifier = TokenVerifier(audience="lifeline-intake", jwks=jwks, clock=clock)
        await verifier.verify(env.token())
        other = SigningKey.generate(clock())
        token = forge(env.header(kid=other.kid), env.claims(), other.private_key)
        caplog.set_level(logging.WARNING)
        await assert_rejected(verifier, token, caplog, "unknown_kid")
        assert jwks.get(ISSUER, env.key.kid) is not None


@pytest.mark.parametrize(
    "document",
    [
        None,
        [],
        {"keys": "nope"},
        {"keys": [{"kty": "OKP"}] * 40},
    ],
)
async def test_malformed_jwks_document_is_ignored(env: Env, document: object) -> None:
    jwks = JwksCache({ISSUER: CountingFetch(document)}, clock=env.clock)  # type: ignore[arg-type]
    jwks.load(ISSUER, {"keys": [env.key.public_jwk()]})
    assert await jwks.refresh(ISSUER) is False
    assert jwks.get(ISSUER, env.key.kid) is not None


async def test_jwks_skips_unusable_keys_and_refuses_duplicate_kids(env: Env) -> None:
    good = env.key.public_jwk()
    leaked = {**env.other_key.public_jwk(), "d": "AAAA"}
    rsa = {"kty": "RSA", "kid": "rsa1", "n": "AQAB", "e": "AQAB"}
    enc = {**SigningKey.generate(0).public_jwk(), "use": "enc", "kid": "enc1"}
    jwks = JwksCache({ISSUER: CountingFetch({"keys": [good, leaked, rsa, enc]})})
    assert await jwks.refresh(ISSUER)
    assert jwks.get(ISSUER, good["kid"]) is not None
    assert jwks.get(ISSUER, leaked["kid"]) is None
    assert jwks.get(ISSUER, "rsa1") is None
    assert jwks.get(ISSUER, "enc1") is None
    duplicate = {**env.other_key.public_jwk(), "kid": good["kid"]}
    with pytest.raises(ValueError, match="invalid JWKS"):
        jwks.load(ISSUER, {"keys": [good, duplicate]})


async def test_unexpected_failure_inside_is_still_a_401(env: Env, caplog) -> None:
    class Exploding(JwksCache):
        async def key_for(self, issuer: str, kid: str) -> None:
            raise RuntimeError("boom")

    verifier = TokenVerifier(
        audience="lifeline-intake",
        jwks=Exploding({ISSUER: env.fetch}),
        clock=env.clock,
    )
    with pytest.raises(Unauthenticated):
        await verifier.verify(env.token())
    assert "RuntimeError" in caplog.text


async def test_forget_all_clears_the_cache(env: Env) -> None:
    await env.verifier.verify(env.token())
    env.verifier.forget_all()
    assert len(env.verifier._cache) == 0
