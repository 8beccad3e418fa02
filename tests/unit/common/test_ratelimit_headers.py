"""The RateLimit headers of a token bucket, and the idempotency key's pure rules."""

from __future__ import annotations

import pytest

from libs.common.errors import RateLimited
from libs.common.idempotency import (
    MalformedIdempotencyKey,
    fingerprint,
    key_digest,
    parse_key,
)
from libs.common.ratelimit import Quota, RateLimiter, ratelimit_headers
from tests.support.ratelimit import parse_list, ratelimit_of


def test_a_bucket_says_what_is_left_and_when_it_is_full_again() -> None:
    limiter = RateLimiter(3, 0.5, name="client")
    assert limiter.check("a", 0.0) == Quota("client", 3, 6, 2, 2)
    limiter.check("a", 0.0)
    limiter.check("a", 0.0)
    with pytest.raises(RateLimited) as refused:
        limiter.check("a", 0.0)
    headers = refused.value.headers
    assert headers["Retry-After"] == "2"
    assert ratelimit_of(headers) == {"client": {"q": 3, "w": 6, "r": 0, "t": 6}}
    # Another key has its own bucket, full.
    assert limiter.quota("b", 0.0) == Quota("client", 3, 6, 3, 0)


def test_several_policies_make_one_list_each() -> None:
    headers = ratelimit_headers(
        [Quota("client-hour", 10, 3600, 4, 60), Quota("day", 5, 86400, 5, 0)]
    )
    assert headers["RateLimit-Policy"] == '"client-hour";q=10;w=3600, "day";q=5;w=86400'
    assert ratelimit_of(headers)["day"] == {"q": 5, "w": 86400, "r": 5, "t": 0}


@pytest.mark.parametrize("value", ["client;q=1", '"a";q=1,', '"a";Q=1', '"a";q=1.5', '"a" "b"'])
def test_the_strict_reader_refuses_what_is_not_a_list_of_named_items(value: str) -> None:
    with pytest.raises(AssertionError):
        parse_list(value)


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ('"8e03978e-40d5-43e8-bc93-6894a57f9324"', "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        ("8e03978e-40d5-43e8-bc93-6894a57f9324", "8e03978e-40d5-43e8-bc93-6894a57f9324"),
        ('"with \\"quotes\\" inside"', 'with "quotes" inside'),
    ],
)
def test_a_key_is_an_sf_string_or_a_bare_token(value: str, key: str) -> None:
    assert parse_key(value) == key


@pytest.mark.parametrize(
    "value", ['"short"', "x" * 256, '"unterminated', "sp ace-but-long-enough", ""]
)
def test_a_malformed_key_is_refused(value: str) -> None:
    with pytest.raises(MalformedIdempotencyKey):
        parse_key(value)


def test_keys_are_per_client_and_fingerprints_per_key_route_and_body() -> None:
    assert key_digest("client-a", "k" * 16) != key_digest("client-b", "k" * 16)
    base = fingerprint("k" * 16, "POST", "/v1/reports", b"{}")
    assert base == fingerprint("k" * 16, "post", "/v1/reports", b"{}")
    assert base != fingerprint("j" * 16, "POST", "/v1/reports", b"{}")
    assert base != fingerprint("k" * 16, "POST", "/v1/admin/partners", b"{}")
    assert base != fingerprint("k" * 16, "POST", "/v1/reports", b"{ }")
