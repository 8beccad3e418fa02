"""Durable OPRF quotas: elements per client and per partner in fixed hour and day windows."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, and_, true
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from libs.common.auth.principal import Principal
from libs.common.clock import SYSTEM_CLOCK, Clock
from libs.common.contracts import SystemAlarm, new_event
from libs.common.db import transaction
from libs.common.errors import RateLimited
from libs.common.outbox import enqueue
from libs.common.ratelimit import Quota
from libs.common.ratelimit import ratelimit_headers as headers_of
from libs.common.sql import upserting
from services.sharing.audit import repository as audit_log
from services.sharing.identity.models import PRF_USAGE
from services.sharing.models import OUTBOX

log = logging.getLogger(__name__)

SPANS = {"hour": 3600, "day": 86400}
# Windows older than the longest span are dead weight; pruning runs at most this often.
_KEEP_SECONDS = 2 * SPANS["day"]
_PRUNE_EVERY_SECONDS = 600
_C = PRF_USAGE.c
_Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class QuotaLimits:
    """Elements per window: `limits[(scope, span)]`, and the day fraction that raises the alarm."""

    limits: dict[_Key, int]
    alarm_fraction: float


@dataclass(frozen=True, slots=True)
class Window:
    """One counter after a request: its policy name, limit, what is left and seconds to reset."""

    scope: str
    span: str
    limit: int
    remaining: int
    reset: int

    @property
    def name(self) -> str:
        """The policy's name in the RateLimit headers, e.g. `partner-day`."""
        return f"{self.scope}-{self.span}"


def ratelimit_headers(windows: list[Window]) -> dict[str, str]:
    """`RateLimit-Policy` and `RateLimit` (draft-ietf-httpapi-ratelimit-headers) for windows."""
    return headers_of(Quota(w.name, w.limit, SPANS[w.span], w.remaining, w.reset) for w in windows)


class PrfQuota:
    """Charges evaluations to the caller's and its partner's windows, shared by every replica."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        limits: QuotaLimits,
        *,
        wake_relay: Callable[[], None] = lambda: None,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.sessions = sessions
        self.limits = limits
        # Alarms go to operators through the outbox (`lifeline.system.alarm.v1`): wake it.
        self.wake_relay = wake_relay
        self.clock = clock
        # Bulk-use alarms this process raised, by scope (`client`, `partner`): the service's
        # counter of them until sharing exposes metrics.
        self.alarms: Counter[str] = Counter()
        self._pruned_at = float("-inf")

    async def charge(self, principal: Principal, count: int) -> list[Window]:
        """Count `count` elements, or raise RateLimited (counting nothing) if a window is full."""
        now = int(self.clock.time())
        subjects = {"client": principal.client_id, "partner": principal.partner_id}
        rows = [
            {
                "scope": scope,
                "subject": subjects[scope],
                "span": span,
                "window_start": now - now % seconds,
                "used": count,
                "alarmed": False,
            }
            for (scope, span) in self.limits.limits
            for seconds in (SPANS[span],)
        ]
        async with transaction(self.sessions) as session:
            upsert = upserting(session, PRF_USAGE)
            # One statement, rows in a fixed order: PostgreSQL locks them in that order, so two
            # clients of one partner queue on the partner's rows instead of deadlocking.
            stmt = (
                upsert.values(rows)
                .on_conflict_do_update(
                    index_elements=[_C.scope, _C.subject, _C.span, _C.window_start],
                    set_={"used": _C.used + upsert.excluded.used},
                )
                .returning(_C.scope, _C.span, _C.window_start, _C.used, _C.alarmed)
            )
            counted = {(r.scope, r.span): r for r in (await session.execute(stmt)).all()}
            left = {
                key: limit - int(counted[key].used) for key, limit in self.limits.limits.items()
            }
            if min(left.values()) < 0:
                # Raised inside the transaction: it rolls back, so a refused call costs nothing.
                before = self._windows(counted, {k: v + count for k, v in left.items()}, now)
                wait = max(w.reset for w in before if left[(w.scope, w.span)] < 0)
                raise RateLimited(wait, headers=ratelimit_headers(before))
            raised = False
            for key, row in counted.items():
                if key[1] == "day" and not row.alarmed:
                    raised |= await self._alarm(session, principal, subjects[key[0]], key, row)
            await self._prune(session, now)
        if raised:
            self.wake_relay()
        return self._windows(counted, left, now)

    def _windows(
        self, counted: dict[_Key, Row[Any]], left: dict[_Key, int], now: int
    ) -> list[Window]:
        return [
            Window(
                scope,
                span,
                limit,
                max(0, left[(scope, span)]),
                int(counted[(scope, span)].window_start) + SPANS[span] - now,
            )
            for (scope, span), limit in self.limits.limits.items()
        ]

    async def _alarm(
        self, session: AsyncSession, principal: Principal, subject: str, key: _Key, row: Row[Any]
    ) -> bool:
        limit = self.limits.limits[key]
        used = int(row.used)
        if used < self.limits.alarm_fraction * limit:
            return False
        window_start = int(row.window_start)
        # Conditional, so that of two replicas crossing the line together only one reports it.
        flipped = await session.execute(
            PRF_USAGE.update()
            .where(
                and_(
                    _C.scope == key[0],
                    _C.subject == subject,
                    _C.span == key[1],
                    _C.window_start == window_start,
                    _C.alarmed.is_(False),
                )
            )
            .values(alarmed=true())
            .returning(_C.used)
        )
        if flipped.first() is None:
            return False
        details = {"scope": key[0], "span": key[1], "used": used, "limit": limit}
        await audit_log.append(
            session,
            actor=principal.client_id,
            action="identity.quota_alarm",
            target=f"{key[0]}:{subject}",
            details=details,
            now=self.clock.now(),
        )
        alarm = SystemAlarm(
            kind="oprf_bulk_use",
            scope=key[0],
            subject=subject,
            partner_id=principal.partner_id,
            used=used,
            limit=limit,
            raised_at=self.clock.now(),
        )
        await enqueue(session, OUTBOX, new_event(alarm, "sharing", at=alarm.raised_at))
        self.alarms[key[0]] += 1
        # Ids and counts only: what was evaluated is never known to sharing anyway.
        log.warning("OPRF bulk use: %s %s at %d of %d per day", key[0], subject, used, limit)
        return True

    async def _prune(self, session: AsyncSession, now: int) -> None:
        if now - self._pruned_at < _PRUNE_EVERY_SECONDS:
            return
        self._pruned_at = now
        await session.execute(PRF_USAGE.delete().where(_C.window_start < now - _KEEP_SECONDS))
