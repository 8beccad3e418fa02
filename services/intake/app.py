"""The intake service: FastAPI application factory and lifespan."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Depends, FastAPI

from libs.common.auth.fastapi import PUBLIC
from libs.common.auth.scopes import Audience
from libs.common.auth.wiring import install_auth, jwks_over_http
from libs.common.events import REPORT_STORED
from libs.common.http import make_client
from libs.common.nats import ConsumerSpec
from libs.common.outbox import OutboxRelay
from libs.common.ratelimit import RateLimiter
from libs.common.runtime import Runtime
from libs.common.secretfile import create_private, read_private
from libs.common.system import dead_letter_sink
from libs.common.web import (
    BodyLimitMiddleware,
    health_router,
    install_access_log,
    install_error_handlers,
)
from services.intake import repository as repo
from services.intake.api import router
from services.intake.models import DeadLetter
from services.intake.sealing import SealingKey
from services.intake.service import Intake
from services.intake.settings import IntakeSettings
from services.intake.worker import stored_batch_handler, stored_handler
from services.intake.writer import BatchWriter

MIGRATIONS = Path(__file__).parent / "migrations"
DEAD_LETTERS = DeadLetter.__table__  # type: ignore[attr-defined]


async def _wire_nats(runtime: Runtime) -> None:
    await runtime.consume(
        ConsumerSpec(durable="intake-receipts", filter_subject=REPORT_STORED),
        stored_handler(runtime),
        dead_letter_sink(runtime, DEAD_LETTERS),
        batch_handler=stored_batch_handler(runtime),
    )


def _mac_key(settings: IntakeSettings) -> bytes:
    # Keys the content digest used to tell a retry from a conflict; never leaves this service.
    path = settings.data_dir / "keys" / "intake-content-mac.key"
    create_private(path, secrets.token_bytes(32))
    return read_private(path)


def create_app(settings: IntakeSettings) -> FastAPI:
    """Build the intake app; resources open in the lifespan and close on shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = await Runtime.open(settings, MIGRATIONS)
        app.state.runtime = runtime
        app.state.readiness = {**runtime.readiness_checks(), **auth.readiness_checks()}
        auth.start(runtime)
        http = make_client(settings.sharing_url)
        relay = OutboxRelay(
            runtime,
            repo.OUTBOX,
            interval=settings.relay_interval_s,
            on_published=repo.mark_published,
            on_published_blocking=repo.mark_published_blocking,
        )
        writer = BatchWriter(runtime)
        app.state.intake = Intake(
            sessions=runtime.sessions,
            sealing_key=SealingKey(
                http, settings.pinned_fingerprints(), settings.data_dir / "intake-sealing-key.pub"
            ),
            mac_key=_mac_key(settings),
            limiter=RateLimiter(settings.rate_burst, settings.rate_per_second),
            relay=relay,
            writer=writer,
        )
        runtime.spawn(writer.run(runtime.stop), "batch-writer")
        runtime.spawn(relay.run(), "outbox-relay")
        runtime.start_nats(_wire_nats)
        try:
            yield
        finally:
            await runtime.close()
            await http.aclose()

    app = FastAPI(
        title="Lifeline intake",
        description="The write-only front door for partner incident reports.",
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    install_error_handlers(app)
    install_access_log(app)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    auth = install_auth(
        app,
        audience=Audience.INTAKE,
        issuer=settings.token_issuer,
        fetch=jwks_over_http(settings.sharing_url),
    )
    app.include_router(health_router(), dependencies=[Depends(PUBLIC)])
    app.include_router(router)
    return app
