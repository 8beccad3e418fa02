"""Reading the audit log: a page of entries, and the whole hash chain recomputed."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.auth.audit import ChainResult, verify_chain
from services.sharing.audit import repository


class AuditLog:
    """The hash-chained audit log, as the admin API reads it."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions

    async def page(self, after: int, limit: int) -> list[dict[str, Any]]:
        """Audit entries after `after`, oldest first."""
        async with self.sessions() as session:
            return await repository.entries(session, after=after, limit=limit)

    async def verify(self) -> ChainResult:
        """Recompute the whole chain and report the first entry that does not fit."""
        rows: list[dict[str, Any]] = []
        async with self.sessions() as session:
            while True:
                page = await repository.entries(session, after=rows[-1]["seq"] if rows else 0)
                rows.extend(page)
                if len(page) < repository.MAX_PAGE:
                    break
        return verify_chain(rows)
