"""SQL of the bus copies: record them with the report, find those due, forget the erased."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.events import Envelope
from libs.common.sql import dialect, insert_of
from services.sharing.vault.copies.models import BUS_COPIES
from services.sharing.vault.models import REPORTS


async def record(session: AsyncSession, events: Sequence[Envelope]) -> None:
    """Remember where each delivered `report.received` sits in its stream (a redelivery: once)."""
    rows = [
        {"stream": e.stream, "stream_seq": e.stream_seq, "report_id": e.data["report_id"]}
        for e in events
        if e.stream is not None and e.stream_seq is not None
    ]
    if rows:
        # One statement for the batch (the driver's executemany), not one per copy.
        await session.execute(_ignoring(dialect(session)), rows)


@functools.cache
def _ignoring(name: str) -> Any:
    """`INSERT … ON CONFLICT DO NOTHING` into the copies, built once per dialect."""
    return insert_of(name)(BUS_COPIES).on_conflict_do_nothing()


async def streams_left(session: AsyncSession) -> set[str]:
    """The streams that still hold a recorded copy (most sweeps end with none)."""
    return set((await session.execute(select(BUS_COPIES.c.stream).distinct())).scalars())


async def due(session: AsyncSession, stream: str, floor: int, limit: int) -> list[int]:
    """Copies every reader has acknowledged (at or below `floor`), or of an erased report."""
    erased = select(REPORTS.c.report_id).where(REPORTS.c.erased_at.is_not(None))
    query = (
        select(BUS_COPIES.c.stream_seq)
        .where(
            BUS_COPIES.c.stream == stream,
            or_(BUS_COPIES.c.stream_seq <= floor, BUS_COPIES.c.report_id.in_(erased)),
        )
        .order_by(BUS_COPIES.c.stream_seq)
        .limit(limit)
    )
    return [int(seq) for seq in (await session.execute(query)).scalars()]


async def forget(session: AsyncSession, stream: str, seqs: Sequence[int]) -> None:
    """Drop the rows of copies no longer on the bus."""
    mine = BUS_COPIES.c.stream == stream
    await session.execute(delete(BUS_COPIES).where(mine, BUS_COPIES.c.stream_seq.in_(list(seqs))))


async def forget_upto(session: AsyncSession, stream: str, last: int) -> int:
    """Drop the rows of every copy at or below `last` (a purge took them); how many."""
    mine = BUS_COPIES.c.stream == stream
    result = await session.execute(delete(BUS_COPIES).where(mine, BUS_COPIES.c.stream_seq <= last))
    return int(getattr(result, "rowcount", 0) or 0)
