"""Attack suite, JOSE layer: algorithms, keys, headers, sizes and encodings of the token."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from libs.common.auth import SigningKey
from libs.common.auth.jwk import ed25519_public_jwk
from tests.unit.auth.helpers import DROP, Env, assert_rejected, b64, forge

NONE_CASINGS = sorted({"".join(c) for c in itertools.product(*zip("none", "NONE", strict=True))})


@pytest.mark.parametrize("alg", NONE_CASINGS)
async def test_alg_none_without_signature_is_refused(env: Env, alg: str, caplog) -> None:
    token = forge(env.header(alg=alg), env.claims(), None, signature=b"")
    await assert_rejected(env.verifier, token, caplog, "malformed")


@pytest.mark.parametrize("alg", NONE_CASINGS)
async def test_alg_none_with_any_signature_is_refused(env: Env, alg: str, caplog) -> None:
    token = forge(env.header(alg=alg), env.claims(), None, signature=b"\0" * 64)
    await assert_rejected(env.verifier, token, caplog, "alg")
    assert env.fetch.calls == 0


def _public_key_encodings(key: SigningKey) -> dict[str, bytes]:
    public = key.private_key.public_key()
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    return {
        "pem": public.public_bytes(serialization.Encoding.PEM, spki),
        "der": public.public_bytes(serialization.Encoding.DER, spki),
        "raw": public.public_bytes_raw(),
        "jwk_json": json.dumps(key.public_jwk()).encode(),
        "jwk_x": key.public_jwk()["x"].encode(),
        "openssh": public.public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        ),
    }


@pytest.mark.parametrize(
    "alg,digest", [("HS256", "sha256"), ("HS384", "sha384"), ("HS512", "sha512")]
)
@pytest.mark.parametrize("encoding", ["pem", "der", "raw", "jwk_json", "jwk_x", "openssh"])
async def test_hmac_signed_with_the_public_key_is_refused(
    env: Env, alg: str, digest: str, encoding: str, caplog
) -> None:
    secret = _public_key_encodings(env.key)[encoding]
    header, claims = env.header(alg=alg), env.claims()
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    mac = hmac.new(secret, signing_input.encode(), getattr(hashlib, digest)).digest()
    token = f"{signing_input}.{b64(mac)}"
    await assert_rejected(env.verifier, token, caplog, "alg")


@pytest.mark.parametrize("alg", ["eddsa", "EDDSA", "Ed25519", "ES256", "RS256", "PS256", "", None])
async def test_any_other_algorithm_name_is_refused(env: Env, alg: object, caplog) -> None:
    await assert_rejected(env.verifier, env.token(env.header(alg=alg)), caplog, "alg")


@pytest.mark.parametrize(
    "kid",
    [
        "../../../etc/passwd",
        "..\\..\\keys\\admin",
        "/dev/null",
        "keys/active",
        "%2e%2e%2fkeys",
        "' OR '1'='1",
        "x'; DROP TABLE client_keys;--",
        "kid\u0000",
        "kid with spaces",
        "k" * 65,
        "",
        17,
        ["a"],
        None,
    ],
)
async def test_unsafe_kids_are_refused_before_any_lookup(env: Env, kid: object, caplog) -> None:
    await assert_rejected(env.verifier, env.token(env.header(kid=kid)), caplog, "kid")
    assert env.fetch.calls == 0


async def test_missing_kid_is_refused(env: Env, caplog) -> None:
    await assert_rejected(env.verifier, env.token(env.header(kid=DROP)), caplog, "kid")


async def test_ten_kilobyte_kid_is_refused_before_parsing(env: Env, caplog) -> None:
    token = env.token(env.header(kid="A" * 10_240))
    await assert_rejected(env.verifier, token, caplog, "too_large")
    assert env.fetch.calls == 0


@pytest.mark.parametrize("typ", [DROP, "JWT", "jwt", "client-authentication+jwt", "at+JWT2", 7])
async def test_wrong_typ_is_refused(env: Env, typ: object, caplog) -> None:
    reason = "bad_typ" if typ == 7 else "typ"
    await assert_rejected(env.verifier, env.token(env.header(typ=typ)), caplog, reason)


@pytest.mark.parametrize("crit", [["exp"], ["x-lifeline"], [], "exp", ["alg"]])
async def test_unknown_crit_is_refused(env: Env, crit: object, caplog) -> None:
    header = env.header(crit=crit, exp=1)
    await assert_rejected(env.verifier, env.token(header), caplog, "crit")


async def test_b64_false_is_refused(env: Env, caplog) -> None:
    header = env.header(b64=False, crit=["b64"])
    await assert_rejected(env.verifier, env.token(header), caplog, "forbidden_header")


async def test_token_over_8_kib_is_refused_and_one_under_is_not(env: Env, caplog) -> None:
    # The largest padding that still fits, found by search, and three bytes more.
    size = max(n for n in range(5500, 6300) if len(env.token(pad="x" * n)) <= 8192)
    padded = env.token(pad="x" * size)
    assert 8188 <= len(padded) <= 8192
    await env.verifier.verify(padded)
    big = env.token(pad="x" * (size + 3))
    assert len(big) > 8192
    await assert_rejected(env.verifier, big, caplog, "too_large")
    await assert_rejected(env.verifier, "a" * 1_000_000, caplog, "too_large")


@pytest.mark.parametrize(
    "name,value",
    [
        ("jku", "https://attacker.example/jwks.json"),
        ("x5u", "https://attacker.example/cert.pem"),
        ("x5c", ["MIIBszCCAVmgAwIBAgIU"]),
        ("x5t", "dGh1bWI"),
    ],
)
async def test_key_fetching_headers_are_refused_without_any_request(
    env: Env, name: str, value: object, caplog
) -> None:
    attacker = Ed25519PrivateKey.generate()
    header = env.header(kid="attackerkey", **{name: value})
    token = forge(header, env.claims(), attacker)
    await assert_rejected(env.verifier, token, caplog, "forbidden_header")
    assert env.fetch.calls == 0
    assert env.other_fetch.calls == 0


async def test_embedded_jwk_header_is_refused_without_any_request(env: Env, caplog) -> None:
    attacker = Ed25519PrivateKey.generate()
    jwk = ed25519_public_jwk(attacker.public_key())
    token = forge(env.header(kid=jwk["kid"], jwk=jwk), env.claims(), attacker)
    await assert_rejected(env.verifier, token, caplog, "forbidden_header")
    assert env.fetch.calls == 0


async def test_unexpected_header_is_refused(env: Env, caplog) -> None:
    await assert_rejected(
        env.verifier, env.token(env.header(cty="JWT")), caplog, "unexpected_header"
    )


async def test_signature_by_wrong_key_or_tampered_payload_is_refused(env: Env, caplog) -> None:
    impostor = forge(env.header(), env.claims(), Ed25519PrivateKey.generate())
    await assert_rejected(env.verifier, impostor, caplog, "signature")
    good = env.token()
    head, _, sig = good.split(".")
    tampered = f"{head}.{b64(json.dumps(env.claims(scope='admin')).encode())}.{sig}"
    await assert_rejected(env.verifier, tampered, caplog, "signature")


@pytest.mark.parametrize(
    "token,reason",
    [
        (None, "not_a_string"),
        (b"a.b.c", "not_a_string"),
        (42, "not_a_string"),
        ("", "malformed"),
        ("a.b", "malformed"),
        ("a.b.c.d", "malformed"),
        ("a..c", "malformed"),
        ("é.b.c", "not_ascii"),
        ("eyJ=.eyJ.AAAA", "bad_base64"),
        ("ey+J.eyJ.AAAA", "bad_base64"),
        ("eyJhbGciOiJFZERTQSJ9.e.AAAA", "bad_base64"),
    ],
)
async def test_malformed_tokens_are_refused(token: object, reason: str, env: Env, caplog) -> None:
    await assert_rejected(env.verifier, token, caplog, reason)


async def test_non_canonical_base64_is_refused(env: Env, caplog) -> None:
    good = env.token()
    head, body, sig = good.split(".")
    # The last character of a 64-byte signature carries 4 unused bits; flipping them yields a
    # different string for the same bytes.
    last = sig[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    variant = alphabet[alphabet.index(last) ^ 1]
    await assert_rejected(env.verifier, f"{head}.{body}.{sig[:-1]}{variant}", caplog, "bad_base64")


@pytest.mark.parametrize("length", [1, 32, 63, 65, 128])
async def test_signature_of_wrong_length_is_refused(env: Env, length: int, caplog) -> None:
    token = forge(env.header(), env.claims(), None, signature=b"\x01" * length)
    await assert_rejected(env.verifier, token, caplog, "signature")
