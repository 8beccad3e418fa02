"""Release requests published the moment their match commits, as intake publishes its reports.

The relay would find each request by reading the outbox (a read on the event loop's async
session, per matched report) and delete it in a transaction of its own. Instead the match
claims its requests from the relay before it commits and a `libs.common.publisher.Publisher`
sends them right after; once JetStream acknowledges them, their outbox rows go in the next
delivery-bookkeeping transaction (`delivery/recorder.py`), through `forget_in` below. Whatever
is not acknowledged, or not forgotten, goes back to the relay, the safety net.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.publisher import Forget
from services.alerts.delivery.recorder import Work
from services.alerts.matching import repository as repo


def forget_in(bookkeep: Callable[[Work], Awaitable[Any]]) -> Forget:
    """Deletes acknowledged requests' outbox rows in a transaction `bookkeep` (`Recorder.run`)
    shares with the delivery bookkeeping."""

    async def forget(event_ids: list[str]) -> None:
        async def work(session: AsyncSession) -> None:
            await repo.forget_outbox(session, event_ids)

        await bookkeep(work)

    return forget
