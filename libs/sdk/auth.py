"""Client side of private_key_jwt: sign assertions, fetch and cache access tokens, retry once."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import AsyncGenerator, Callable, Generator, Iterable
from dataclasses import dataclass
from ipaddress import ip_address
from urllib.parse import urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from libs.common.auth.tokens import (
    CLIENT_ASSERTION_TYP,
    CLIENT_ASSERTION_TYPE,
    MAX_ASSERTION_LIFETIME,
)
from libs.common.errors import LifelineError
from libs.sdk.credentials import key_id

_OAUTH_ERROR = re.compile(r"[a-z_]{1,64}")
MAX_TOKEN_CHARS = 8192
_NO_AUTH = httpx.Auth()


class TokenRequestError(LifelineError):
    """The token endpoint did not issue a token (refused, unreachable or answered oddly)."""

    status = 401
    code = "token_request_failed"

    def __init__(
        self, detail: str, *, http_status: int | None = None, oauth_error: str | None = None
    ) -> None:
        super().__init__(detail)
        self.http_status = http_status
        self.oauth_error = oauth_error

    @property
    def retryable(self) -> bool:
        """True for network failures and 5xx/429 answers, where trying later may work."""
        return self.http_status is None or self.http_status >= 500 or self.http_status == 429


def make_client_assertion(
    private_key: Ed25519PrivateKey,
    kid: str,
    client_id: str,
    token_endpoint: str,
    lifetime: int = 60,
    *,
    now: float | None = None,
) -> str:
    """An RFC 7523 client assertion: iss = sub = client id, aud = the token endpoint, fresh jti."""
    if not 0 < lifetime <= MAX_ASSERTION_LIFETIME:
        raise ValueError("assertions may live at most 300 seconds")
    iat = int(time.time() if now is None else now)
    claims = {
        "iss": client_id,
        "sub": client_id,
        # A single string, never a list: the server accepts exactly its own endpoint.
        "aud": token_endpoint,
        "iat": iat,
        "exp": iat + lifetime,
        "jti": secrets.token_urlsafe(24),
    }
    headers = {"typ": CLIENT_ASSERTION_TYP, "kid": kid}
    return jwt.encode(claims, private_key, algorithm="EdDSA", headers=headers)


@dataclass(frozen=True, slots=True)
class _Cached:
    token: str
    refresh_at: float
    expires_at: float


class TokenSource:
    """Obtains access tokens with client credentials and caches each until shortly before expiry."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        token_endpoint: str,
        client_id: str,
        private_key: Ed25519PrivateKey,
        kid: str | None = None,
        scopes: Iterable[str] = (),
        audiences: Iterable[str] = (),
        refresh_margin: float = 30.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        _require_safe_endpoint(token_endpoint)
        self._http = http
        self._endpoint = token_endpoint
        self._client_id = client_id
        self._key = private_key
        self._kid = kid if kid is not None else key_id(private_key)
        self._scope = " ".join(sorted(set(scopes)))
        self._audience = " ".join(dict.fromkeys(audiences))
        self._margin = refresh_margin
        self._clock = clock
        self._cached: _Cached | None = None
        self._lock = asyncio.Lock()

    async def token(self) -> str:
        """A current access token; a new one is fetched only when the cached one nears expiry."""
        cached = self._cached
        if cached is not None and self._clock() < cached.refresh_at:
            return cached.token
        async with self._lock:
            # Concurrent callers wait for one request instead of each asking for a token.
            cached = self._cached
            if cached is None or self._clock() >= cached.refresh_at:
                cached = await self._fetch()
                self._cached = cached
            return cached.token

    @property
    def expires_at(self) -> float | None:
        """When the cached token expires (seconds since the epoch), if there is one."""
        return None if self._cached is None else self._cached.expires_at

    def invalidate(self, token: str | None = None) -> None:
        """Forget the cached token (only if it is still `token`, when given)."""
        if token is None or (self._cached is not None and self._cached.token == token):
            self._cached = None

    async def _fetch(self) -> _Cached:
        issued_at = self._clock()
        form = {
            "grant_type": "client_credentials",
            "client_assertion_type": CLIENT_ASSERTION_TYPE,
            "client_assertion": make_client_assertion(
                self._key, self._kid, self._client_id, self._endpoint, now=issued_at
            ),
        }
        if self._scope:
            form["scope"] = self._scope
        if self._audience:
            form["audience"] = self._audience
        try:
            # A BearerAuth set as the client's default must not wrap its own token call.
            response = await self._http.post(
                self._endpoint, data=form, headers={"Accept": "application/json"}, auth=_NO_AUTH
            )
        except httpx.HTTPError as exc:
            raise TokenRequestError("token endpoint unreachable") from exc
        return self._parse(response, issued_at)

    def _parse(self, response: httpx.Response, issued_at: float) -> _Cached:
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code != 200:
            error = body.get("error") if isinstance(body, dict) else None
            oauth_error = (
                error if isinstance(error, str) and _OAUTH_ERROR.fullmatch(error) else None
            )
            raise TokenRequestError(
                "token request refused",
                http_status=response.status_code,
                oauth_error=oauth_error,
            )
        if not isinstance(body, dict):
            raise TokenRequestError("malformed token response", http_status=200)
        token = body.get("access_token")
        token_type = body.get("token_type")
        expires_in = body.get("expires_in")
        if (
            not isinstance(token, str)
            or not 0 < len(token) <= MAX_TOKEN_CHARS
            or not isinstance(token_type, str)
            or token_type.lower() != "bearer"
            or type(expires_in) is not int
            or not 0 < expires_in <= 3600
        ):
            raise TokenRequestError("malformed token response", http_status=200)
        # Measured from before the request, so network delay only makes us refresh earlier.
        margin = min(self._margin, expires_in / 4)
        return _Cached(
            token=token,
            refresh_at=issued_at + expires_in - margin,
            expires_at=issued_at + expires_in,
        )


class BearerAuth(httpx.Auth):
    """httpx auth: sends the access token and, on a 401, retries once with a fresh token."""

    def __init__(self, source: TokenSource) -> None:
        self._source = source

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        """Not supported: tokens are obtained asynchronously."""
        raise RuntimeError("BearerAuth works with httpx.AsyncClient only")

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Attach the token; if the service answers 401 (e.g. revoked), refresh and retry once."""
        token = await self._source.token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401:
            self._source.invalidate(token)
            token = await self._source.token()
            request.headers["Authorization"] = f"Bearer {token}"
            yield request


def _require_safe_endpoint(url: str) -> None:
    """HTTPS only, except plain HTTP to this machine for the embedded development network."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname:
        if parts.hostname == "localhost":
            return
        try:
            if ip_address(parts.hostname).is_loopback:
                return
        except ValueError:
            pass
    raise ValueError("the token endpoint must be an https URL (or http on loopback)")
