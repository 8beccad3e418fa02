"""SDK token handling: assertions, the token request, caching, and the one 401 retry."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qs

import httpx
import jwt
import pytest

from libs.common.auth import CLIENT_ASSERTION_TYPE, verify_client_assertion
from libs.sdk.auth import BearerAuth, TokenRequestError, TokenSource, make_client_assertion
from libs.sdk.credentials import generate_private_key, key_id
from tests.unit.auth.helpers import NOW, Clock

ENDPOINT = "https://sharing.lifeline.test/oauth/token"


class FakeTokenEndpoint:
    """Records requests and answers with numbered tokens (or a canned reply)."""

    def __init__(self, expires_in: int = 600) -> None:
        self.forms: list[dict[str, str]] = []
        self.expires_in = expires_in
        self.reply: httpx.Response | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url == ENDPOINT
        assert "authorization" not in request.headers
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        self.forms.append(form)
        if self.reply is not None:
            return self.reply
        body = {
            "access_token": f"token-{len(self.forms)}",
            "token_type": "Bearer",
            "expires_in": self.expires_in,
        }
        return httpx.Response(200, json=body)


def _source(
    endpoint: FakeTokenEndpoint, clock: Clock, **options: object
) -> tuple[TokenSource, object]:
    key = generate_private_key()
    http = httpx.AsyncClient(transport=httpx.MockTransport(endpoint))
    source = TokenSource(
        http,
        token_endpoint=ENDPOINT,
        client_id="client-1",
        private_key=key,
        clock=clock,
        **options,  # type: ignore[arg-type]
    )
    return source, key


def test_assertion_shape() -> None:
    key = generate_private_key()
    assertion = make_client_assertion(key, key_id(key), "client-1", ENDPOINT, now=NOW)
    header = jwt.get_unverified_header(assertion)
    assert header == {"alg": "EdDSA", "typ": "client-authentication+jwt", "kid": key_id(key)}
    claims = jwt.decode(assertion, options={"verify_signature": False})
    assert claims["iss"] == claims["sub"] == "client-1"
    assert claims["aud"] == ENDPOINT
    assert claims["exp"] - claims["iat"] == 60
    other = make_client_assertion(key, key_id(key), "client-1", ENDPOINT, now=NOW)
    assert jwt.decode(other, options={"verify_signature": False})["jti"] != claims["jti"]
    with pytest.raises(ValueError):
        make_client_assertion(key, key_id(key), "client-1", ENDPOINT, lifetime=301)


async def test_token_request_carries_a_verifiable_assertion() -> None:
    endpoint, clock = FakeTokenEndpoint(), Clock()
    source, key = _source(
        endpoint, clock, scopes=["reports:submit", "alerts:read"], audiences=["lifeline-intake"]
    )
    assert await source.token() == "token-1"
    (form,) = endpoint.forms
    assert form["grant_type"] == "client_credentials"
    assert form["client_assertion_type"] == CLIENT_ASSERTION_TYPE
    assert form["scope"] == "alerts:read reports:submit"
    assert form["audience"] == "lifeline-intake"
    claims = verify_client_assertion(
        form["client_assertion"],
        ENDPOINT,
        lambda c, k: key.public_key(),
        clock(),  # type: ignore[attr-defined]
    )
    assert claims.client_id == "client-1"


async def test_token_is_cached_until_shortly_before_expiry() -> None:
    endpoint, clock = FakeTokenEndpoint(expires_in=600), Clock()
    source, _ = _source(endpoint, clock)
    assert await source.token() == "token-1"
    clock.advance(569)
    assert await source.token() == "token-1"
    clock.advance(1)  # 30 s before expiry
    assert await source.token() == "token-2"
    assert len(endpoint.forms) == 2


async def test_concurrent_callers_share_one_token_request() -> None:
    endpoint, clock = FakeTokenEndpoint(), Clock()
    source, _ = _source(endpoint, clock)
    tokens = await asyncio.gather(*(source.token() for _ in range(20)))
    assert set(tokens) == {"token-1"}
    assert len(endpoint.forms) == 1


@pytest.mark.parametrize(
    "reply,oauth_error,retryable",
    [
        (httpx.Response(401, json={"error": "invalid_client"}), "invalid_client", False),
        (httpx.Response(400, json={"error": "invalid_scope"}), "invalid_scope", False),
        (httpx.Response(400, json={"error": "<script>"}), None, False),
        (httpx.Response(503, text="down"), None, True),
        (
            httpx.Response(200, json={"access_token": "t", "token_type": "mac", "expires_in": 60}),
            None,
            False,
        ),
        (httpx.Response(200, json={"access_token": "t", "token_type": "Bearer"}), None, False),
        (
            httpx.Response(200, json={"access_token": "", "token_type": "Bearer", "expires_in": 9}),
            None,
            False,
        ),
        (
            httpx.Response(
                200, json={"access_token": "t", "token_type": "Bearer", "expires_in": "9"}
            ),
            None,
            False,
        ),
        (httpx.Response(200, text="<html>"), None, False),
    ],
)
async def test_token_endpoint_failures_raise_token_request_error(
    reply: httpx.Response, oauth_error: str | None, retryable: bool
) -> None:
    endpoint, clock = FakeTokenEndpoint(), Clock()
    endpoint.reply = reply
    source, _ = _source(endpoint, clock)
    with pytest.raises(TokenRequestError) as info:
        await source.token()
    assert info.value.oauth_error == oauth_error
    assert info.value.retryable is retryable


async def test_network_failure_is_retryable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    http = httpx.AsyncClient(transport=httpx.MockTransport(refuse))
    key = generate_private_key()
    source = TokenSource(http, token_endpoint=ENDPOINT, client_id="c", private_key=key)
    with pytest.raises(TokenRequestError) as info:
        await source.token()
    assert info.value.retryable


@pytest.mark.parametrize(
    "url,ok",
    [
        ("https://sharing.example/token", True),
        ("http://127.0.0.1:8102/oauth/token", True),
        ("http://localhost:8102/oauth/token", True),
        ("http://[::1]:8102/oauth/token", True),
        ("http://sharing.example/token", False),
        ("http://10.0.0.5/token", False),
        ("ftp://sharing.example/token", False),
        ("sharing.example/token", False),
    ],
)
def test_token_endpoint_must_be_https_except_loopback(url: str, ok: bool) -> None:
    http = httpx.AsyncClient()
    key = generate_private_key()
    if ok:
        TokenSource(http, token_endpoint=url, client_id="c", private_key=key)
    else:
        with pytest.raises(ValueError):
            TokenSource(http, token_endpoint=url, client_id="c", private_key=key)


def _service(seen: list[str], reject: set[str]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        auth = request.headers.get("authorization", "")
        seen.append(auth)
        if auth.removeprefix("Bearer ") in reject:
            return httpx.Response(401, json={"error": "unauthenticated"})
        return httpx.Response(200, json={"ok": True})

    return httpx.MockTransport(handler)


async def test_bearer_auth_retries_once_with_a_fresh_token_on_401() -> None:
    endpoint, clock = FakeTokenEndpoint(), Clock()
    source, _ = _source(endpoint, clock)
    seen: list[str] = []
    async with httpx.AsyncClient(
        transport=_service(seen, reject={"token-1"}), auth=BearerAuth(source)
    ) as api:
        response = await api.post("https://intake.test/reports", json={"a": 1})
    assert response.status_code == 200
    assert seen == ["Bearer token-1", "Bearer token-2"]
    assert len(endpoint.forms) == 2


async def test_bearer_auth_gives_up_after_one_retry() -> None:
    endpoint, clock = FakeTokenEndpoint(), Clock()
    source, _ = _source(endpoint, clock)
    seen: list[str] = []
    rejected = {f"token-{i}" for i in range(1, 10)}
    async with httpx.AsyncClient(transport=_service(seen, rejected)) as api:
        response = await api.get("https://intake.test/x", auth=BearerAuth(source))
    assert response.status_code == 401
    assert len(seen) == 2


async def test_bearer_auth_does_not_refetch_on_success_or_403() -> None:
    endpoint, clock = FakeTokenEndpoint(), Clock()
    source, _ = _source(endpoint, clock)

    def forbidden(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, json={"error": "forbidden"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(forbidden)) as api:
        for _ in range(3):
            response = await api.get("https://intake.test/x", auth=BearerAuth(source))
            assert response.status_code == 403
    assert len(endpoint.forms) == 1


async def test_client_default_bearer_auth_does_not_wrap_the_token_call() -> None:
    # One client for both the token endpoint and the API, with BearerAuth as its default.
    endpoint, clock = FakeTokenEndpoint(), Clock()
    seen: list[str] = []
    service = _service(seen, reject=set())

    def route(request: httpx.Request) -> httpx.Response:
        if str(request.url) == ENDPOINT:
            return endpoint(request)
        return service.handle_request(request)

    http = httpx.AsyncClient(transport=httpx.MockTransport(route))
    source = TokenSource(
        http,
        token_endpoint=ENDPOINT,
        client_id="c",
        private_key=generate_private_key(),
        clock=clock,
    )
    http.auth = BearerAuth(source)
    response = await http.get("https://intake.test/x")
    assert response.status_code == 200
    assert seen == ["Bearer token-1"]
    assert json.loads(response.text) == {"ok": True}
