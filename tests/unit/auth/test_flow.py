"""The whole chain on one page: SDK -> token endpoint -> service route -> revocation -> retry.

The token endpoint here is a minimal stand-in built only from the phase-1 functions, the way
sharing's real endpoint is meant to use them.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse

from libs.common.auth import (
    CLIENT_ASSERTION_TYPE,
    JwksCache,
    Principal,
    RevocationKind,
    RevocationList,
    SigningKeyring,
    TokenVerifier,
    mint_access_token,
    revocation_event_data,
    verify_client_assertion,
)
from libs.common.auth.fastapi import require_scopes
from libs.common.auth.scopes import Audience, Scope, parse_scope
from libs.common.errors import LifelineError, Unauthenticated
from libs.sdk import BearerAuth, TokenRequestError, TokenSource, generate_private_key, key_id
from tests.support.auth import role_for
from tests.unit.auth.helpers import Clock

ISSUER = "https://sharing.lifeline.test"
ENDPOINT = f"{ISSUER}/oauth/token"


class Sharing:
    """Registry + token endpoint + JWKS, in memory."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.keyring = SigningKeyring.bootstrap(clock())
        self.client_keys: dict[tuple[str, str], object] = {}
        self.seen_jtis: set[tuple[str, str]] = set()
        self.disabled: set[str] = set()

    def token_endpoint(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
            return httpx.Response(400, json={"error": "invalid_request"})
        try:
            claims = verify_client_assertion(
                form.get("client_assertion"),
                ENDPOINT,
                lambda client, kid: self.client_keys.get((client, kid)),  # type: ignore[arg-type,return-value]
                self.clock(),
            )
        except Unauthenticated:
            return httpx.Response(401, json={"error": "invalid_client"})
        if (claims.client_id, claims.jti) in self.seen_jtis or claims.client_id in self.disabled:
            return httpx.Response(401, json={"error": "invalid_client"})
        self.seen_jtis.add((claims.client_id, claims.jti))
        key = self.keyring.active()
        token = mint_access_token(
            key.private_key,
            key.kid,
            issuer=ISSUER,
            subject=claims.client_id,
            audiences=form.get("audience", "").split(),
            scopes=sorted(parse_scope(form.get("scope", ""))),
            lifetime=600,
            now=self.clock(),
            org="org-a",
            role=role_for(parse_scope(form.get("scope", ""))),
            client_kid=claims.kid,
        )
        return httpx.Response(
            200, json={"access_token": token, "token_type": "Bearer", "expires_in": 600}
        )

    async def jwks(self) -> dict[str, object]:
        return self.keyring.jwks()


def _intake(sharing: Sharing, revocations: RevocationList) -> FastAPI:
    app = FastAPI()
    jwks = JwksCache({ISSUER: sharing.jwks}, clock=sharing.clock)
    app.state.verifier = TokenVerifier(
        audience=Audience.INTAKE, jwks=jwks, revocations=revocations, clock=sharing.clock
    )

    @app.exception_handler(LifelineError)
    async def _render(request: Request, exc: LifelineError) -> JSONResponse:
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.post("/v1/reports")
    async def submit(
        principal: Annotated[Principal, Depends(require_scopes(Scope.REPORTS_SUBMIT))],
    ) -> dict[str, str]:
        return {"accepted_from": principal.client_id}

    return app


async def test_end_to_end_token_use_revocation_and_recovery() -> None:
    clock = Clock()
    sharing = Sharing(clock)
    revocations = RevocationList(clock=clock)
    intake = _intake(sharing, revocations)
    old_key, new_key = generate_private_key(), generate_private_key()
    sharing.client_keys[("client-1", key_id(old_key))] = old_key.public_key()

    token_http = httpx.AsyncClient(transport=httpx.MockTransport(sharing.token_endpoint))
    source = TokenSource(
        token_http,
        token_endpoint=ENDPOINT,
        client_id="client-1",
        private_key=old_key,
        scopes=["reports:submit"],
        audiences=["lifeline-intake"],
        clock=clock,
    )
    api = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=intake), base_url="http://intake", auth=BearerAuth(source)
    )
    async with api:
        response = await api.post("/v1/reports")
        assert response.status_code == 200, response.text
        assert response.json() == {"accepted_from": "client-1"}
        old_token = await source.token()

        # The client rotates its key: the new one is registered, the old one revoked.
        clock.advance(10)
        sharing.client_keys[("client-1", key_id(new_key))] = new_key.public_key()
        del sharing.client_keys[("client-1", key_id(old_key))]
        revocations.apply(
            revocation_event_data(RevocationKind.CLIENT_KEY, key_id(old_key), clock())
        )
        source_new = TokenSource(
            token_http,
            token_endpoint=ENDPOINT,
            client_id="client-1",
            private_key=new_key,
            scopes=["reports:submit"],
            audiences=["lifeline-intake"],
            clock=clock,
        )
        api.auth = BearerAuth(source_new)
        clock.advance(1)
        assert (await api.post("/v1/reports")).status_code == 200

        # The old credentials are dead everywhere: the cached token and the token endpoint.
        # The 401 makes the SDK ask for a fresh token once, which the endpoint refuses.
        api.auth = BearerAuth(source)
        with pytest.raises(TokenRequestError) as info:
            await api.post("/v1/reports")
        assert info.value.oauth_error == "invalid_client"
        verifier: TokenVerifier = intake.state.verifier
        with pytest.raises(Unauthenticated):
            await verifier.verify(old_token)

        # Disabling the client: its outstanding (cached, valid) token stops at once.
        outstanding = await source_new.token()
        await verifier.verify(outstanding)
        sharing.disabled.add("client-1")
        revocations.apply(revocation_event_data(RevocationKind.CLIENT, "client-1", clock()))
        with pytest.raises(Unauthenticated):
            await verifier.verify(outstanding)
        with pytest.raises(TokenRequestError):
            await api.post("/v1/reports")
