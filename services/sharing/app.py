"""The sharing service: FastAPI application factory and lifespan."""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI

from libs.common.auth.fastapi import PUBLIC, require_scopes
from libs.common.auth.scopes import Audience, Scope
from libs.common.auth.wiring import install_auth
from libs.common.events import SYSTEM_PING
from libs.common.nats import ConsumerSpec
from libs.common.ratelimit import RateLimiter
from libs.common.runtime import Runtime
from libs.common.system import dead_letter_sink, ping_handler, system_router
from libs.common.web import (
    BodyLimitMiddleware,
    health_router,
    install_access_log,
    install_error_handlers,
)
from services.sharing.access import access_routers, own_jwks, start_access
from services.sharing.api_identity import router as identity_router
from services.sharing.api_keys import router as keys_router
from services.sharing.keystore_hpke import HpkeKeyStore
from services.sharing.keystore_prf import PrfKeyStore
from services.sharing.models import DeadLetter, ProcessedEvent
from services.sharing.settings import SharingSettings
from services.sharing.vault import Vault, open_vault, vault_routers, wire_vault

MIGRATIONS = Path(__file__).parent / "migrations"
INBOX = ProcessedEvent.__table__  # type: ignore[attr-defined]
DEAD_LETTERS = DeadLetter.__table__  # type: ignore[attr-defined]


async def _wire_nats(runtime: Runtime, vault: Vault) -> None:
    await runtime.consume(
        ConsumerSpec(durable="sharing-system", filter_subject=SYSTEM_PING),
        ping_handler(runtime, INBOX),
        dead_letter_sink(runtime, DEAD_LETTERS),
    )
    await wire_vault(runtime, vault)


def create_app(settings: SharingSettings) -> FastAPI:
    """Build the sharing app; resources open in the lifespan and close on shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await Runtime.open(settings, MIGRATIONS)
        app.state.runtime = runtime
        app.state.readiness = {**runtime.readiness_checks(), **auth.readiness_checks()}
        await start_access(app, runtime, settings, auth)
        app.state.hpke_keys = HpkeKeyStore.open(settings.resolved_hpke_key_file())
        app.state.prf_keys = PrfKeyStore.open(settings.prf_key_file())
        app.state.prf_limiter = RateLimiter(settings.prf_rate_burst, settings.prf_rate_per_second)
        vault = open_vault(app, runtime, settings)
        runtime.start_nats(functools.partial(_wire_nats, vault=vault))
        try:
            yield
        finally:
            await runtime.close()

    app = FastAPI(
        title="Lifeline sharing",
        description=(
            "The vault: partner registry, access tokens, sharing policies"
            " and the encrypted report store."
        ),
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    install_access_log(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    auth = install_auth(
        app,
        audience=Audience.SHARING,
        issuer=settings.token_issuer,
        fetch=own_jwks(app),
        # The keyring is a local file (shared with the other replicas): re-reading it is cheap.
        refresh_every=5.0,
        min_refresh_interval=1.0,
    )
    app.include_router(health_router(), dependencies=[Depends(PUBLIC)])
    app.include_router(system_router(INBOX, [Depends(require_scopes(Scope.ADMIN))]))
    for access_router in access_routers():
        app.include_router(access_router)
    app.include_router(keys_router)
    app.include_router(identity_router)
    for vault_router in vault_routers():
        app.include_router(vault_router)
    return app
