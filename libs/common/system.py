"""The wiring check every consumer offers: a `lifeline.system.ping.v1` seen through its API."""

# No `from __future__ import annotations`: FastAPI reads the route's annotations at runtime.

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.consumer import DeadLetter, Handler
from libs.common.contracts import SystemPing, read_event
from libs.common.db import transaction
from libs.common.errors import NotFound
from libs.common.events import Envelope
from libs.common.inbox import dead_letter_row, mark_processed
from libs.common.runtime import Runtime

Sessions = async_sessionmaker[AsyncSession]


class ConsumedEvent(BaseModel):
    """An event this service has processed."""

    event_id: str
    event_type: str
    processed_at: datetime


def ping_handler(runtime: Runtime, inbox: Table, *, clock: Clock = SYSTEM_CLOCK) -> Handler:
    """A handler that records ping events in the service's inbox."""

    async def handle(event: Envelope) -> None:
        read_event(event, SystemPing)
        async with transaction(runtime.sessions) as session:
            await mark_processed(session, inbox, event, clock.now())

    return handle


def dead_letter_sink(
    runtime: Runtime,
    table: Table,
    *,
    clock: Clock = SYSTEM_CLOCK,
    keep: Callable[[bytes], bytes] | None = None,
) -> Callable[[DeadLetter], Any]:
    """A sink that stores dead letters in the service's own table (`keep`: what of the payload)."""

    async def sink(letter: DeadLetter) -> None:
        if keep is not None:
            letter = replace(letter, payload=keep(letter.payload))
        async with transaction(runtime.sessions) as session:
            await session.execute(table.insert().values(**dead_letter_row(letter, clock.now())))

    return sink


async def runtime_sessions(request: Request) -> Sessions:
    """The sessions of a service that keeps its `Runtime` on `app.state.runtime`.

    Only the default of `system_router` for services without a typed container yet (sharing);
    a service with one passes its own dependency.
    """
    runtime: Runtime = request.app.state.runtime
    return runtime.sessions


def system_router(
    inbox: Table,
    dependencies: list[Any] | None = None,
    *,
    sessions: Callable[..., Any] = runtime_sessions,
) -> APIRouter:
    """`GET /v1/system/events/{event_id}`: whether this service has processed an event.

    `sessions` is the dependency that hands the route the service's database sessions.
    """
    router = APIRouter(prefix="/v1/system", tags=["system"], dependencies=dependencies or [])

    @router.get(
        "/events/{event_id}",
        response_model=ConsumedEvent,
        summary="Whether this service has processed the event with this id.",
    )
    async def consumed_event(
        event_id: str, db: Annotated[Sessions, Depends(sessions)]
    ) -> ConsumedEvent:
        """The inbox row of the event, or 404 if it has not been processed (yet)."""
        async with db() as session:
            row = (await session.execute(select(inbox).where(inbox.c.event_id == event_id))).first()
        if row is None:
            raise NotFound("event not processed")
        return ConsumedEvent(
            event_id=row.event_id, event_type=row.event_type, processed_at=row.processed_at
        )

    return router
