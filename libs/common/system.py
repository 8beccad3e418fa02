"""The wiring check every consumer offers: a `lifeline.system.ping.v1` seen through its API."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel
from sqlalchemy import Table, select

from libs.common.consumer import DeadLetter, Handler
from libs.common.db import transaction
from libs.common.errors import NotFound
from libs.common.events import Envelope
from libs.common.inbox import dead_letter_row, mark_processed
from libs.common.runtime import Runtime


class ConsumedEvent(BaseModel):
    """An event this service has processed."""

    event_id: str
    event_type: str
    processed_at: datetime


def ping_handler(runtime: Runtime, inbox: Table) -> Handler:
    """A handler that records ping events in the service's inbox."""

    async def handle(event: Envelope) -> None:
        async with transaction(runtime.sessions) as session:
            await mark_processed(session, inbox, event)

    return handle


def dead_letter_sink(runtime: Runtime, table: Table) -> Callable[[DeadLetter], Any]:
    """A sink that stores dead letters in the service's own table."""

    async def sink(letter: DeadLetter) -> None:
        async with transaction(runtime.sessions) as session:
            await session.execute(table.insert().values(**dead_letter_row(letter)))

    return sink


def system_router(inbox: Table, dependencies: list[Any] | None = None) -> APIRouter:
    """`GET /v1/system/events/{event_id}`: whether this service has processed an event."""
    router = APIRouter(prefix="/v1/system", tags=["system"], dependencies=dependencies or [])

    @router.get(
        "/events/{event_id}",
        response_model=ConsumedEvent,
        summary="Whether this service has processed the event with this id.",
    )
    async def consumed_event(event_id: str, request: Request) -> ConsumedEvent:
        """The inbox row of the event, or 404 if it has not been processed (yet)."""
        runtime: Runtime = request.app.state.runtime
        async with runtime.sessions() as session:
            row = (await session.execute(select(inbox).where(inbox.c.event_id == event_id))).first()
        if row is None:
            raise NotFound("event not processed")
        return ConsumedEvent(
            event_id=row.event_id, event_type=row.event_type, processed_at=row.processed_at
        )

    return router
