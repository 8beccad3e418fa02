"""Attack suite, claims: issuer, audience, times, token type confusion, payload encoding."""

from __future__ import annotations

import json

import pytest

from libs.sdk.auth import make_client_assertion
from tests.unit.auth.helpers import DROP, OTHER_ISSUER, Env, assert_rejected, forge


async def test_kid_of_another_issuers_key_is_refused(env: Env, caplog) -> None:
    # Signed by the other issuer's real key, under its real kid, but claiming our issuer.
    header = env.header(kid=env.other_key.kid)
    token = forge(header, env.claims(), env.other_key.private_key)
    await assert_rejected(env.verifier, token, caplog, "unknown_kid")
    assert env.other_fetch.calls == 0  # the key was looked up under (our issuer, kid) only


async def test_other_issuer_token_is_accepted_only_with_its_own_keys(env: Env) -> None:
    token = forge(
        env.header(kid=env.other_key.kid), env.claims(iss=OTHER_ISSUER), env.other_key.private_key
    )
    principal = await env.verifier.verify(token)
    assert principal.issuer == OTHER_ISSUER


async def test_client_assertion_presented_as_access_token_is_refused(env: Env, caplog) -> None:
    # Signed with a key the verifier trusts, so only its type and audience give it away.
    assertion = make_client_assertion(
        env.key.private_key, env.key.kid, "client-1", "https://sharing.test/token", now=env.clock()
    )
    await assert_rejected(env.verifier, assertion, caplog, "typ")


async def test_assertion_claims_under_at_jwt_typ_are_refused(env: Env, caplog) -> None:
    claims = {
        "iss": "client-1",
        "sub": "client-1",
        "aud": "https://sharing.test/token",
        "exp": int(env.clock()) + 60,
        "jti": "a1",
    }
    token = forge(env.header(), claims, env.key.private_key)
    await assert_rejected(env.verifier, token, caplog, "issuer")


@pytest.mark.parametrize(
    "aud,reason",
    [
        (["lifeline-alerts"], "aud"),
        ("lifeline-sharing", "aud"),
        (["lifeline-alerts", "lifeline-sharing"], "aud"),
        ("https://sharing.test/token", "aud"),
        ([], "bad_aud"),
        ([1], "bad_aud"),
        ({"lifeline-intake": True}, "bad_aud"),
        (DROP, "bad_aud"),
    ],
)
async def test_token_for_another_audience_is_refused(
    env: Env, aud: object, reason: str, caplog
) -> None:
    await assert_rejected(env.verifier, env.token(aud=aud), caplog, reason)


@pytest.mark.parametrize(
    "exp",
    [DROP, None, "1750000300", 1e30, 10**30, -1, True, 1750000300.0, [1750000300], 2**40 + 1],
    ids=[
        "missing",
        "null",
        "string",
        "1e30",
        "int1e30",
        "negative",
        "bool",
        "float",
        "list",
        "huge",
    ],
)
async def test_malformed_exp_is_refused(env: Env, exp: object, caplog) -> None:
    await assert_rejected(env.verifier, env.token(exp=exp), caplog, "bad_exp")


async def test_exp_nan_or_infinity_is_refused(env: Env, caplog) -> None:
    for constant in ("NaN", "Infinity", "-Infinity"):
        payload = json.dumps(env.claims(exp=0)).replace('"exp": 0', f'"exp": {constant}')
        token = forge(env.header(), payload.encode(), env.key.private_key)
        await assert_rejected(env.verifier, token, caplog, "non_json_number")


@pytest.mark.parametrize(
    "iat", [DROP, "now", -5, 1.5, False], ids=lambda v: "missing" if v is DROP else str(v)
)
async def test_malformed_iat_is_refused(env: Env, iat: object, caplog) -> None:
    await assert_rejected(env.verifier, env.token(iat=iat), caplog, "bad_iat")


async def test_lifetime_above_maximum_is_refused(env: Env, caplog) -> None:
    now = int(env.clock())
    await assert_rejected(env.verifier, env.token(iat=now, exp=now + 601), caplog, "lifetime")
    # A negative iat with a current exp would be an endless lifetime.
    await assert_rejected(env.verifier, env.token(iat=0, exp=now + 60), caplog, "lifetime")
    await assert_rejected(env.verifier, env.token(iat=now, exp=now), caplog, "lifetime")


async def test_expired_and_future_tokens_are_refused(env: Env, caplog) -> None:
    now = int(env.clock())
    expired = env.token(iat=now - 400, nbf=now - 400, exp=now - 31)
    await assert_rejected(env.verifier, expired, caplog, "expired")
    future = env.token(iat=now + 120, nbf=now + 120, exp=now + 420)
    await assert_rejected(env.verifier, future, caplog, "iat_future")
    not_yet = env.token(nbf=now + 120)
    await assert_rejected(env.verifier, not_yet, caplog, "nbf")


async def test_duplicate_claim_names_are_refused(env: Env, caplog) -> None:
    body = json.dumps(env.claims(aud=["lifeline-alerts"]))[:-1] + ', "aud": ["lifeline-intake"]}'
    token = forge(env.header(), body.encode(), env.key.private_key)
    await assert_rejected(env.verifier, token, caplog, "duplicate_member")


async def test_duplicate_header_names_are_refused(env: Env, caplog) -> None:
    header = b'{"alg": "none", "alg": "EdDSA", "typ": "at+jwt", "kid": "%s"}' % env.key.kid.encode()
    token = forge(header, env.claims(), env.key.private_key)
    await assert_rejected(env.verifier, token, caplog, "duplicate_member")


async def test_nested_duplicate_names_are_refused(env: Env, caplog) -> None:
    body = json.dumps(env.claims())[:-1] + ', "cnf": {"a": 1, "a": 2}}'
    token = forge(env.header(), body.encode(), env.key.private_key)
    await assert_rejected(env.verifier, token, caplog, "duplicate_member")


@pytest.mark.parametrize(
    "encoding,reason",
    [
        ("utf-16", "not_utf8"),
        ("utf-16-le", "bad_json"),
        ("utf-32", "not_utf8"),
        ("utf-8-sig", "bom"),
    ],
)
async def test_non_utf8_payloads_are_refused(env: Env, encoding: str, reason: str, caplog) -> None:
    payload = json.dumps(env.claims()).encode(encoding)
    token = forge(env.header(), payload, env.key.private_key)
    await assert_rejected(env.verifier, token, caplog, reason)


async def test_utf16_header_is_refused(env: Env, caplog) -> None:
    header = json.dumps(env.header()).encode("utf-16")
    token = forge(header, env.claims(), env.key.private_key)
    await assert_rejected(env.verifier, token, caplog, "not_utf8")


async def test_untrusted_issuer_is_refused_without_any_request(env: Env, caplog) -> None:
    token = env.token(iss="https://attacker.example")
    await assert_rejected(env.verifier, token, caplog, "issuer")
    assert env.fetch.calls == 0


@pytest.mark.parametrize("payload", [b"[]", b'"x"', b"1", b"null", b"[" * 5000 + b"]" * 5000])
async def test_non_object_payloads_are_refused(env: Env, payload: bytes, caplog) -> None:
    token = forge(env.header(), payload, env.key.private_key)
    reason = "too_large" if len(payload) > 6000 else "not_an_object"
    await assert_rejected(env.verifier, token, caplog, reason)


async def test_deeply_nested_json_is_refused(env: Env, caplog) -> None:
    payload = b'{"a":' + b"[" * 2000 + b"]" * 2000 + b"}"
    token = forge(env.header(), payload, env.key.private_key)
    await assert_rejected(env.verifier, token, caplog, "bad_json")


@pytest.mark.parametrize(
    "claim,value,reason",
    [
        ("sub", "client-2", "sub_client_id"),
        ("sub", "../admin", "bad_sub"),
        ("client_id", DROP, "bad_client_id"),
        ("org", DROP, "bad_org"),
        ("org", "org a", "bad_org"),
        ("jti", DROP, "bad_jti"),
        ("jti", "j" * 129, "bad_jti"),
        ("scope", DROP, "bad_scope"),
        ("scope", ["admin"], "bad_scope"),
        ("scope", 'admin "x"', "bad_scope"),
        ("client_kid", DROP, "client_kid"),
        ("client_kid", "../k", "client_kid"),
        ("iss", DROP, "bad_iss"),
    ],
)
async def test_missing_or_malformed_claims_are_refused(
    env: Env, claim: str, value: object, reason: str, caplog
) -> None:
    await assert_rejected(env.verifier, env.token(**{claim: value}), caplog, reason)
