"""The token endpoint's pure rules: the form, scope and audience grants, public key text."""

from __future__ import annotations

import json

import pytest

from libs.common.auth.jwk import ed25519_fingerprint, parse_public_key_text, public_key_line
from libs.common.auth.scopes import audiences_for
from libs.common.auth.tokens import CLIENT_ASSERTION_TYPE
from libs.sdk import fingerprint, generate_private_key, public_jwk, public_key_text
from services.sharing.access.tokens.domain import (
    OAuthError,
    grant_audiences,
    grant_scopes,
    parse_token_form,
)

FORM = "application/x-www-form-urlencoded"
GOOD = f"grant_type=client_credentials&client_assertion_type={CLIENT_ASSERTION_TYPE}&client_assertion=a.b.c"


def test_a_good_form_parses() -> None:
    req = parse_token_form(
        (GOOD + "&scope=alerts%3Aread&audience=lifeline-alerts").encode(), FORM + "; charset=utf-8"
    )
    assert (req.assertion, req.scope, req.audience) == ("a.b.c", "alerts:read", "lifeline-alerts")


@pytest.mark.parametrize(
    ("body", "content_type", "error"),
    [
        (GOOD, "application/json", "invalid_request"),
        (GOOD + "&grant_type=client_credentials", FORM, "invalid_request"),
        (GOOD.replace("client_credentials", "password"), FORM, "unsupported_grant_type"),
        (GOOD.replace("grant_type=client_credentials&", ""), FORM, "invalid_request"),
        (GOOD.replace(CLIENT_ASSERTION_TYPE, "urn:x"), FORM, "invalid_request"),
        (GOOD.replace("a.b.c", ""), FORM, "invalid_request"),
        ("é=1", FORM, "invalid_request"),
        ("&&&", FORM, "invalid_request"),
        (GOOD + "&x=" + "y" * 17000, FORM, "invalid_request"),
    ],
)
def test_bad_forms_get_their_oauth_error(body: str, content_type: str, error: str) -> None:
    with pytest.raises(OAuthError) as info:
        parse_token_form(body.encode(), content_type)
    assert info.value.code == error and info.value.status == 400
    assert info.value.body()["error"] == error


def test_scopes_and_audiences_are_only_narrowed() -> None:
    registered = frozenset({"reports:submit", "alerts:read"})
    assert grant_scopes(None, registered) == registered
    assert grant_scopes("alerts:read", registered) == {"alerts:read"}
    with pytest.raises(OAuthError, match="scope"):
        grant_scopes("admin", registered)
    assert grant_audiences(None, registered) == [
        "lifeline-intake",
        "lifeline-sharing",
        "lifeline-alerts",
    ]
    assert grant_audiences("lifeline-alerts", frozenset({"alerts:read"})) == ["lifeline-alerts"]
    with pytest.raises(OAuthError) as info:
        grant_audiences("lifeline-intake", frozenset({"alerts:read"}))
    assert info.value.code == "invalid_target"


@pytest.mark.parametrize(
    ("scopes", "audiences"),
    [
        ({"reports:submit"}, ["lifeline-intake", "lifeline-sharing"]),
        ({"reports:read"}, ["lifeline-sharing"]),
        ({"watchlist:manage"}, ["lifeline-sharing", "lifeline-alerts"]),
        ({"alerts:ack"}, ["lifeline-sharing", "lifeline-alerts"]),
        ({"admin"}, ["lifeline-intake", "lifeline-sharing", "lifeline-alerts"]),
        (set(), []),
    ],
)
def test_each_scope_is_for_the_services_that_serve_it(
    scopes: set[str], audiences: list[str]
) -> None:
    assert audiences_for(scopes) == audiences


def test_public_key_text_round_trips_and_the_fingerprints_agree() -> None:
    key = generate_private_key()
    line = public_key_text(key)
    assert line.startswith("ed25519:") and " " not in line
    for text in (line, json.dumps(public_jwk(key)), f"  {line}\n"):
        parsed = parse_public_key_text(text)
        assert public_key_line(parsed) == line
        assert ed25519_fingerprint(parsed) == fingerprint(key)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ed25519:AAAA",
        "ed25519:" + "A" * 43 + "=",
        '{"kty": "OKP", "crv": "X25519", "x": "' + "A" * 43 + '"}',
        '{"kty": "OKP", "crv": "Ed25519", "x": "' + "A" * 43 + '", "d": "' + "A" * 43 + '"}',
        '["not", "an", "object"]',
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI",
        "x" * 5000,
    ],
)
def test_anything_else_is_not_a_public_key(text: str) -> None:
    with pytest.raises(ValueError):
        parse_public_key_text(text)
