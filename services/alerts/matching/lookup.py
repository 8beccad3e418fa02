"""Reads on the matching hot path run whole in a worker thread, on a blocking connection.

An `AsyncSession` read costs the event loop several turns (aiosqlite hands BEGIN, the cursor,
each fetch and the rollback to its thread one at a time); the index lookup before each match
runs as one `asyncio.to_thread` call instead, with the same repository code
(`libs/common/threaded.py`: `ThreadSession`, `run_inline`). A read takes no write lock: it
never queues behind this process's writers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.threaded import InThread, ThreadSession, ThreadTransactions, run_inline

T = TypeVar("T")


def reader(threads: ThreadTransactions) -> InThread:
    """Run async repository reads as one read-only transaction in a worker thread."""

    async def read(work: Callable[[AsyncSession], Coroutine[Any, Any, T]]) -> T:
        engine = threads.engine()

        def run() -> T:
            # Leaving the block rolls the (read-only) transaction back.
            with engine.connect() as conn:
                return run_inline(work(cast(Any, ThreadSession(conn))))

        return await asyncio.to_thread(run)

    return read
