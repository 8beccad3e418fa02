"""SQL of who-may-read: reading partners' policy documents and per-report grants."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from libs.common.reports.fields import CATALOGUE, Catalogue
from libs.common.sql import for_update, seek
from services.sharing.vault.policy.document import parse_policy
from services.sharing.vault.policy.domain import Policy, ReportGrant
from services.sharing.vault.policy.models import POLICIES, REPORT_GRANTS

EVERY_ROLE = "*"  # the `role` column of a partner-wide policy (a key column cannot be NULL)
# Parsed policies by (partner, role, stored version, the catalogue's fields they were read with).
_parsed: dict[tuple[str, str, int, tuple[str, ...]], Policy] = {}


def _role_key(role: str | None) -> str:
    return EVERY_ROLE if role is None else role


async def _rows(session: AsyncSession, partner_id: str, role: str | None = None) -> list[Any]:
    query = select(POLICIES).where(POLICIES.c.partner_id == partner_id)
    if role is not None:
        query = query.where(POLICIES.c.role == role)
    return list((await session.execute(query.order_by(POLICIES.c.role))).all())


async def policies_for(
    session: AsyncSession, partner_id: str, catalogue: Catalogue = CATALOGUE
) -> list[Policy]:
    """Every policy of a reading partner (all roles), parsed once per stored version."""
    policies = []
    for row in await _rows(session, partner_id):
        key = (row.partner_id, row.role, int(row.version), catalogue.grantable)
        policy = _parsed.get(key)
        if policy is None:
            if len(_parsed) > 4096:  # stale versions pile up over a long life; start over
                _parsed.clear()
            policy = _parsed[key] = parse_policy(json.loads(row.document), catalogue)
        policies.append(policy)
    return policies


async def policy_documents(
    session: AsyncSession, partner_id: str, role: str | None = None
) -> list[dict[str, Any]]:
    """Stored documents with their version and who last changed them (role `*` = every role)."""
    return [
        {
            "document": json.loads(row.document),
            "version": int(row.version),
            "updated_at": row.updated_at,
            "updated_by": row.updated_by,
        }
        for row in await _rows(session, partner_id, role)
    ]


async def put_policy(
    session: AsyncSession, document: dict[str, Any], actor: str, now: datetime
) -> int:
    """Insert or replace a policy document; returns its new version."""
    partner, role = document["partner"], _role_key(document["role"])
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    query = select(POLICIES.c.version).where(
        POLICIES.c.partner_id == partner, POLICIES.c.role == role
    )
    current = await session.execute(for_update(session, query))
    found = current.first()
    if found is None:
        await session.execute(
            POLICIES.insert().values(
                partner_id=partner,
                role=role,
                document=text,
                version=1,
                updated_at=now,
                updated_by=actor,
            )
        )
        return 1
    version = int(found.version) + 1
    await session.execute(
        update(POLICIES)
        .where(POLICIES.c.partner_id == partner, POLICIES.c.role == role)
        .values(document=text, version=version, updated_at=now, updated_by=actor)
    )
    return version


# --- per-report grants ---------------------------------------------------------------------


def _grant(row: Row[Any], catalogue: Catalogue) -> ReportGrant:
    return ReportGrant(
        id=row.id,
        report_id=row.report_id,
        partner=row.partner_id,
        fields=frozenset(row.fields.split()),
        role=row.role,
        catalogue=catalogue,
    )


async def grants_to(
    session: AsyncSession,
    partner_id: str,
    report_ids: Iterable[str] | None = None,
    catalogue: Catalogue = CATALOGUE,
) -> list[ReportGrant]:
    """Per-report grants addressed to a partner (for some reports, or all of them)."""
    query = select(REPORT_GRANTS).where(REPORT_GRANTS.c.partner_id == partner_id)
    if report_ids is not None:
        query = query.where(REPORT_GRANTS.c.report_id.in_(sorted(set(report_ids))))
    return [_grant(r, catalogue) for r in await session.execute(query)]


async def grants_of_report(
    session: AsyncSession,
    report_id: str,
    after: tuple[datetime, str] | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Grants of one report (for its submitter and administrators), oldest first, after the
    (created_at, id) position `after`."""
    query = select(REPORT_GRANTS).where(REPORT_GRANTS.c.report_id == report_id)
    query = seek(query, (REPORT_GRANTS.c.created_at, REPORT_GRANTS.c.id), after)
    return [dict(r._mapping) for r in await session.execute(query.limit(limit))]


async def insert_grant(session: AsyncSession, values: dict[str, Any]) -> None:
    """Record a per-report grant."""
    await session.execute(REPORT_GRANTS.insert().values(**values))
