"""What every service does to check tokens: one verifier, its key refresh, the revocation feed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI
from pydantic import BaseModel

from libs.common.auth.fastapi import AUTHENTICATED
from libs.common.auth.feed import RevocationFeed
from libs.common.auth.jwks import JwksCache, JwksFetch
from libs.common.auth.openapi import publish_security
from libs.common.auth.principal import Principal
from libs.common.auth.scopes import JWKS_PATH, WHOAMI_PATH
from libs.common.auth.verifier import TokenVerifier
from libs.common.errors import Unavailable
from libs.common.http import make_client
from libs.common.runtime import Runtime
from libs.common.web import ReadinessCheck

log = logging.getLogger("libs.common.auth")

MAX_JWKS_BYTES = 64 * 1024


class JwksUnavailable(Exception):
    """Sharing's JWKS could not be fetched (the cache keeps the keys it has)."""


def jwks_over_http(sharing_url: str) -> JwksFetch:
    """A JWKS source that GETs sharing's JWKS from the configured URL (never one from a token)."""
    url = sharing_url.rstrip("/") + JWKS_PATH

    async def fetch() -> Mapping[str, Any]:
        async with make_client(read=3.0) as http:
            response = await http.get(url, headers={"Accept": "application/json"})
        if response.status_code != 200 or len(response.content) > MAX_JWKS_BYTES:
            raise JwksUnavailable(f"HTTP {response.status_code}")
        document = response.json()
        if not isinstance(document, dict):
            raise JwksUnavailable("not an object")
        return document

    return fetch


class WhoAmI(BaseModel):
    """The caller as this service sees it (from its verified access token)."""

    client_id: str
    org: str
    scopes: list[str]
    audiences: list[str]
    expires_at: int


def whoami_router() -> APIRouter:
    """`GET /v1/auth/whoami`: lets a client check that this service accepts its token."""
    router = APIRouter(tags=["auth"])

    @router.get(WHOAMI_PATH, response_model=WhoAmI, summary="The caller's identity as seen here.")
    async def whoami(principal: Annotated[Principal, Depends(AUTHENTICATED)]) -> WhoAmI:
        """Client id, partner, scopes, audiences and expiry of the presented access token."""
        return WhoAmI(
            client_id=principal.client_id,
            org=principal.partner_id,
            scopes=sorted(principal.scopes),
            audiences=list(principal.audiences),
            expires_at=principal.exp,
        )

    return router


class RevocationsUnconfirmed(Unavailable):
    """This replica cannot confirm it knows every revocation: no token is trusted (503)."""

    code = "revocations_unconfirmed"

    def __init__(self) -> None:
        super().__init__(
            "revocations cannot be confirmed current; retry shortly",
            headers={"Retry-After": "2"},
        )


# Checks a principal somewhere authoritative when the feed is not current; raises if revoked.
Fallback = Callable[[Principal], Awaitable[None]]


class ServiceAuth:
    """The running parts behind `app.state.verifier`: periodic JWKS refresh, revocation feed."""

    def __init__(
        self,
        verifier: TokenVerifier,
        issuer: str,
        *,
        refresh_every: float,
        max_staleness: float = 10.0,
        startup_grace_s: float = 30.0,
    ) -> None:
        self.verifier = verifier
        self.issuer = issuer
        self.refresh_every = refresh_every
        # The network starts its services together, so the issuer (sharing) may come up after
        # this one: until the first keys arrive, failed fetches are warnings only past this.
        self.startup_grace_s = startup_grace_s
        self.feed: RevocationFeed | None = None
        self._keys_loaded = False
        # Revocation fails closed: past this many seconds without the feed confirmed current
        # (NATS partitioned, paused, restarting), a token is checked by `fallback` or refused.
        self.max_staleness = max_staleness
        self.fallback: Fallback | None = None
        verifier.gate = self.admit

    async def admit(self, principal: Principal) -> None:
        """Let a verified token through only while revocations are known to be current."""
        if self.feed is not None and self.feed.current_within(self.max_staleness):
            return
        if self.fallback is None:
            raise RevocationsUnconfirmed()
        await self.fallback(principal)

    def start(self, runtime: Runtime) -> None:
        """Start refreshing keys and following revocations for the life of `runtime`."""
        runtime.spawn(self._refresh(runtime.stop), "jwks-refresh")
        runtime.spawn(self._follow(runtime), "revocation-feed")

    def readiness_checks(self) -> dict[str, ReadinessCheck]:
        """Ready once signing keys are known and the recent revocations have been replayed."""

        async def auth() -> str | None:
            if not self._keys_loaded:
                return "signing keys not loaded"
            if self.feed is None or not self.feed.caught_up.is_set():
                return "revocations not replayed"
            if self.fallback is None and not self.feed.current_within(self.max_staleness):
                return "revocations not confirmed current"
            return None

        return {"auth": auth}

    async def _refresh(self, stop: asyncio.Event) -> None:
        # Often enough that keys removed from the JWKS disappear here within a minute, and
        # well inside the 120 s a new signing key is published before it signs anything.
        retry, started = 0.2, time.monotonic()
        while not stop.is_set():
            waiting = time.monotonic() - started < self.startup_grace_s
            ok = await self.refresh_keys(expected=waiting and not self._keys_loaded)
            if ok:
                delay, retry = self.refresh_every, 0.2
            else:
                # Sharing may still be starting: retry soon, then back off.
                delay, retry = retry, min(retry * 2, 10.0)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=delay)

    async def refresh_keys(self, *, expected: bool = False) -> bool:
        """Fetch the issuer's JWKS; on success forget revocations of keys it no longer lists
        (`expected`: a failure is logged as info, see `JwksCache.refresh`)."""
        ok = await self.verifier.jwks.refresh(self.issuer, expected=expected)
        self._keys_loaded = self._keys_loaded or ok
        if ok:
            self.verifier.revocations.forget_signing_keys_except(
                self.verifier.jwks.kids(self.issuer)
            )
        return ok

    async def _follow(self, runtime: Runtime) -> None:
        await runtime.nats_ready.wait()
        if runtime.js is None:
            return
        # The feed asks the server for a confirmation after each idle pull request, four per
        # staleness window (2.5 s by default, not every second): one late answer never makes a
        # replica fail closed. (Half the expiry: a request that expires asks at once.)
        confirm = min(self.max_staleness / 4, 2.5)
        self.feed = RevocationFeed(
            runtime.js,
            self.verifier.revocations,
            verifier=runtime.verifier,
            fetch_timeout=confirm,
            idle_check_seconds=confirm / 2,
        )
        await self.feed.run(runtime.stop)


def install_auth(
    app: FastAPI,
    *,
    audience: str,
    issuer: str,
    fetch: JwksFetch,
    refresh_every: float = 60.0,
    min_refresh_interval: float = 30.0,
    max_staleness: float = 10.0,
) -> ServiceAuth:
    """Put the service's `TokenVerifier` on `app.state.verifier` and add `/v1/auth/whoami`.

    The app's OpenAPI document then names each route's scopes (`security`) and the audience.

    Call `.start(runtime)` in the lifespan and merge `.readiness_checks()` into readiness.
    `min_refresh_interval` bounds fetches caused by unknown kids (a remote JWKS: keep it long).
    """
    jwks = JwksCache({issuer: fetch}, min_refresh_interval=min_refresh_interval)
    verifier = TokenVerifier(audience=audience, jwks=jwks)
    app.state.verifier = verifier
    app.include_router(whoami_router())
    publish_security(app, audience)
    return ServiceAuth(verifier, issuer, refresh_every=refresh_every, max_staleness=max_staleness)
