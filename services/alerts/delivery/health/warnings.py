"""Warnings: a contact that stopped working is told to its owner on another of their contacts;
a lawyer none of whose contacts works (while they watch someone) is told to the duty desk.

Each episode warns once: a contact's `warned_problem` and an open `contact_warnings` row of a
lawyer are claimed with conditional writes, so replicas and repeated checks agree.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from services.alerts.delivery import repository as jobs_repo
from services.alerts.delivery.domain import LAWYER_ROLES
from services.alerts.delivery.health import repository as repo
from services.alerts.delivery.health.domain import (
    UNREACHABLE,
    HealthRules,
    reachable,
    recovered,
    state,
    to_warn,
    warning_id,
    working,
)
from services.alerts.delivery.profiles import repository as profiles
from services.alerts.delivery.rows import job_row
from services.alerts.rotas import repository as rotas

log = logging.getLogger(__name__)


async def after_attempt(
    session: AsyncSession, contact_id: str, error: str | None, rules: HealthRules, now: datetime
) -> int:
    """Record an attempt on its contact and warn if that started an episode; jobs added."""
    row = await repo.record(session, contact_id, error, now)
    if row is None:
        return 0  # the contact was removed meanwhile
    return await settle(session, row, rules, now)


async def settle(session: AsyncSession, row: RowMapping, rules: HealthRules, now: datetime) -> int:
    """Warn of the contact's problem (once per episode) or close its episode; jobs added."""
    if row["role"] not in LAWYER_ROLES:
        return 0  # backups and duty contacts are other people's; their owner is not warned
    value, warned = state(row, rules, now), row["warned_problem"]
    problem = to_warn(value, warned)
    if problem is not None:
        if not await repo.claim_problem(session, row["id"], warned, problem):
            return 0
        added = await _warn_owner(session, row, problem, rules, now)
        return added + await check_lawyer(session, row["lawyer_id"], row["org_id"], rules, now)
    if recovered(value, warned) and await repo.claim_problem(session, row["id"], warned, None):
        return await check_lawyer(session, row["lawyer_id"], row["org_id"], rules, now)
    return 0


async def _warn_owner(
    session: AsyncSession, row: RowMapping, problem: str, rules: HealthRules, now: datetime
) -> int:
    """One `contact_warning` on the first other contact of the lawyer's that works."""
    own = await profiles.lawyer_contacts(session, row["lawyer_id"])
    others = [
        c
        for c in own
        if c["id"] != row["id"] and c["role"] in LAWYER_ROLES and c["disabled_at"] is None
        and working(state(c, rules, now))
    ]  # fmt: skip
    if not others:
        # No other way to reach them: the unreachable check tells the duty desk instead.
        log.warning("contact warning has nobody to go to", extra={"contact_id": row["id"]})
        return 0
    warning: dict[str, Any] = {
        "id": warning_id("contact", row["id"], problem, now.isoformat()),
        "lawyer_id": row["lawyer_id"],
        "org_id": row["org_id"],
        "contact_id": row["id"],
        "channel": row["channel"],
        "name": row["name"],
        "problem": problem,
        "created_at": now,
    }
    if not await repo.insert_warning(session, warning):
        return 0
    log.info("contact warning", extra={"contact_id": row["id"], "reason": problem})
    return await _deliveries(session, warning["id"], others[:1], now)


async def check_lawyer(
    session: AsyncSession, lawyer_id: str | None, org_id: str, rules: HealthRules, now: datetime
) -> int:
    """Open (and tell the duty desk) or close the lawyer's unreachable episode; jobs added."""
    if lawyer_id is None:
        return 0
    own = await profiles.lawyer_contacts(session, lawyer_id)
    states = [state(c, rules, now) for c in own if c["role"] in LAWYER_ROLES]
    episode = await repo.open_episode(session, lawyer_id)
    if reachable(states, await repo.has_entries(session, lawyer_id)):
        if episode is not None:
            await repo.end_episode(session, lawyer_id, now)
        return 0
    if episode is not None:
        return 0
    return await unreachable(session, lawyer_id, org_id, now)


async def unreachable(session: AsyncSession, lawyer_id: str, org_id: str, now: datetime) -> int:
    """Open the lawyer's unreachable episode and tell whoever is on duty; jobs added."""
    number = await repo.episodes(session, lawyer_id)
    warning: dict[str, Any] = {
        "id": warning_id(UNREACHABLE, lawyer_id, number),
        "lawyer_id": lawyer_id,
        "org_id": org_id,
        "contact_id": None,
        "channel": "",
        "name": None,
        "problem": UNREACHABLE,
        "created_at": now,
    }
    if not await repo.insert_warning(session, warning):
        return 0  # another replica opened this episode
    duty = [c for c in await rotas.duty_at(session, org_id, now) if c["disabled_at"] is None]
    log.warning("lawyer unreachable", extra={"lawyer_id": lawyer_id, "count": len(duty)})
    return await _deliveries(session, warning["id"], duty, now)


async def sweep(session: AsyncSession, rules: HealthRules, now: datetime) -> int:
    """The periodic check: time-based states (keys expiring) and every lawyer's reachability."""
    added = 0
    for row in await repo.watched_contacts(session):
        added += await settle(session, row, rules, now)
    for lawyer in await repo.lawyers_to_check(session):
        added += await check_lawyer(session, lawyer["client_id"], lawyer["org_id"], rules, now)
    return added


async def _deliveries(
    session: AsyncSession, warning_id: str, contacts: Sequence[RowMapping], now: datetime
) -> int:
    """One `contact_warning` delivery to each of `contacts` (idempotent by key)."""
    rows = [job_row(warning_id, c, 0, "contact_warning", now) for c in contacts]
    return await jobs_repo.insert_many(session, rows)
