"""The token endpoint as a client meets it: tokens with the right shape, clear refusals."""

from __future__ import annotations

import jwt
import pytest

from libs.common.auth.scopes import DEFAULT_ISSUER, JWKS_PATH, TOKEN_PATH
from libs.common.auth.tokens import CLIENT_ASSERTION_TYPE
from tests.integration.auth.conftest import Sharing


# Every test registers a client of its own: one sharing per backend serves the module.
@pytest.fixture
def sharing(module_sharing: Sharing) -> Sharing:
    """This module's shared sharing."""
    return module_sharing


def _claims(token: str) -> dict[str, object]:
    return jwt.decode(token, options={"verify_signature": False})


def _form(assertion: str, **extra: str) -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "client_assertion_type": CLIENT_ASSERTION_TYPE,
        "client_assertion": assertion,
        **extra,
    }


async def test_token_has_the_rfc9068_shape_and_the_audiences_its_scopes_need(
    sharing: Sharing,
) -> None:
    client = await sharing.client("reports:submit")
    resp = await sharing.http.post(sharing.url + TOKEN_PATH, data=_form(client.assertion()))
    assert resp.status_code == 200, resp.text
    assert resp.headers["cache-control"] == "no-store"
    body = resp.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300
    assert body["scope"] == "reports:submit"
    header = jwt.get_unverified_header(body["access_token"])
    assert header == {"alg": "EdDSA", "typ": "at+jwt", "kid": header["kid"]}
    claims = _claims(body["access_token"])
    assert claims["iss"] == DEFAULT_ISSUER
    assert claims["sub"] == claims["client_id"] == client.client_id
    assert claims["org"] == client.partner_id
    assert claims["aud"] == ["lifeline-intake", "lifeline-sharing"]
    assert claims["client_kid"] == client.kid
    assert claims["exp"] - claims["iat"] == 300  # type: ignore[operator]
    # The token is signed by a key sharing publishes.
    jwks = (await sharing.http.get(sharing.url + JWKS_PATH)).json()
    assert header["kid"] in {k["kid"] for k in jwks["keys"]}
    assert all("d" not in k for k in jwks["keys"])


@pytest.mark.parametrize(
    ("scopes", "audiences"),
    [
        (["reports:read"], ["lifeline-sharing"]),
        (["watchlist:manage", "alerts:ack"], ["lifeline-sharing", "lifeline-alerts"]),
        (["admin"], ["lifeline-intake", "lifeline-sharing", "lifeline-alerts"]),
    ],
)
async def test_audiences_follow_the_scopes(
    sharing: Sharing, scopes: list[str], audiences: list[str]
) -> None:
    # `admin` is only ever held by the operator's organisation.
    operator = sharing.admin.partner_id if "admin" in scopes else None
    client = await sharing.client(*scopes, partner_id=operator)
    resp = await sharing.http.post(sharing.url + TOKEN_PATH, data=_form(client.assertion()))
    assert _claims(resp.json()["access_token"])["aud"] == audiences


async def test_a_client_may_ask_for_fewer_scopes_and_audiences_never_more(sharing: Sharing) -> None:
    client = await sharing.client("reports:submit", "alerts:read")
    url = sharing.url + TOKEN_PATH
    narrow = await sharing.http.post(
        url, data=_form(client.assertion(), scope="alerts:read", audience="lifeline-alerts")
    )
    assert narrow.status_code == 200
    claims = _claims(narrow.json()["access_token"])
    assert claims["scope"] == "alerts:read" and claims["aud"] == ["lifeline-alerts"]

    more = await sharing.http.post(url, data=_form(client.assertion(), scope="admin"))
    assert (more.status_code, more.json()["error"]) == (400, "invalid_scope")
    elsewhere = await sharing.http.post(
        url, data=_form(client.assertion(), scope="alerts:read", audience="lifeline-intake")
    )
    assert (elsewhere.status_code, elsewhere.json()["error"]) == (400, "invalid_target")


@pytest.mark.parametrize(
    ("content", "content_type", "error"),
    [
        (b"", "application/x-www-form-urlencoded", "invalid_request"),
        (b'{"grant_type": "client_credentials"}', "application/json", "invalid_request"),
        (b"grant_type=password", "application/x-www-form-urlencoded", "unsupported_grant_type"),
        (
            b"grant_type=client_credentials&grant_type=client_credentials",
            "application/x-www-form-urlencoded",
            "invalid_request",
        ),
        (
            b"grant_type=client_credentials&client_assertion_type=x&client_assertion=y",
            "application/x-www-form-urlencoded",
            "invalid_request",
        ),
        (
            b"grant_type=client_credentials&%ff=1",
            "application/x-www-form-urlencoded",
            "invalid_request",
        ),
        (b"x" * 20_000, "application/x-www-form-urlencoded", "invalid_request"),
    ],
)
async def test_malformed_requests_get_rfc6749_errors(
    sharing: Sharing, content: bytes, content_type: str, error: str
) -> None:
    resp = await sharing.http.post(
        sharing.url + TOKEN_PATH, content=content, headers={"Content-Type": content_type}
    )
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"] == error
    # RFC 6749 §5.2, not a problem: OAuth clients read `error` and `error_description`.
    assert set(resp.json()) == {"error", "error_description", "request_id"}
    assert resp.headers["content-type"] == "application/json"
    assert resp.json()["request_id"] == resp.headers["x-request-id"]


async def test_an_assertion_for_another_token_endpoint_is_refused(sharing: Sharing) -> None:
    client = await sharing.client("reports:submit")
    other = client.assertion()  # right endpoint: accepted
    assert (await sharing.http.post(sharing.url + TOKEN_PATH, data=_form(other))).status_code == 200
    client.sharing_url = "http://localhost:1"  # the same key, minted for another server
    resp = await sharing.http.post(sharing.url + TOKEN_PATH, data=_form(client.assertion()))
    assert resp.status_code == 401 and resp.json()["error"] == "invalid_client"
