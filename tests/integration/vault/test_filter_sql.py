"""The SQL pre-filter says exactly what `policy.Filter.matches` says, on SQLite and PostgreSQL.

Listing trusts the WHERE clause to load every report a reader may see (and `decide` re-checks
each one), so a clause that drops a visible report hides it, and one that adds reports only costs
time. Random reports, policies and per-report grants, compared with the pure engine.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from libs.common import db
from libs.common.reports import CATALOGUE, IncidentType, LegalBasis, Tlp
from services.sharing.app import MIGRATIONS
from services.sharing.vault.models import REPORTS
from services.sharing.vault.policy.domain import (
    GRANTABLE_TLP,
    Grant,
    Policy,
    Reader,
    ReportGrant,
    ReportMeta,
    candidate_filter,
    decide,
)
from services.sharing.vault.repository import visible_clause

PARTNERS = ["ptn_a", "ptn_b", "ptn_c", "ptn_d"]
COUNTRIES = ["KG", "KZ", "RU", "GE", "DE", "TR"]
ROLES = [None, "lawyer", "reader"]


def _some(rng: random.Random, values: list[object]) -> frozenset[object] | None:
    if rng.random() < 0.35:
        return None  # `*`
    return frozenset(rng.sample(values, rng.randint(1, max(1, len(values) // 2))))


def _grant(rng: random.Random, n: int) -> Grant:
    return Grant(
        id=f"g{n}",
        fields=frozenset(rng.sample(CATALOGUE.grantable, rng.randint(1, 4))),
        sources=_some(rng, PARTNERS),  # type: ignore[arg-type]
        incident_types=_some(rng, list(IncidentType)),  # type: ignore[arg-type]
        countries=_some(rng, COUNTRIES),  # type: ignore[arg-type]
        legal_bases=_some(rng, list(LegalBasis)),  # type: ignore[arg-type]
        max_tlp=rng.choice(GRANTABLE_TLP),
    )


async def test_the_where_clause_matches_the_policy_engine(db_url: str, tmp_path: Path) -> None:
    rng = random.Random(20260101)
    engine = db.create_engine(db_url)
    try:
        await db.migrate(engine, MIGRATIONS)
        now = datetime.now(UTC)
        metas = []
        rows = []
        for i in range(300):
            meta = ReportMeta(
                report_id=f"r-{i:04d}",
                partner=rng.choice(PARTNERS),
                incident_type=rng.choice(list(IncidentType)),
                legal_basis=rng.choice(list(LegalBasis)),
                country=rng.choice(COUNTRIES),
                tlp=rng.choice(list(Tlp)),
            )
            metas.append(meta)
            rows.append(
                {
                    "report_id": meta.report_id,
                    "partner_id": meta.partner,
                    "client_report_id": f"c-{i}",
                    "event_id": f"e-{i}",
                    "incident_type": meta.incident_type.value,
                    "legal_basis": meta.legal_basis.value,
                    "country": meta.country,
                    "facility_kind": "unknown",
                    "tlp": meta.tlp.value,
                    "occurred_on": date(2026, 1, 1),
                    "received_at": now,
                    "stored_at": now,
                    "updated_us": i,
                    "sealed_kid": "0" * 32,
                    "data_key_id": f"k-{i}",
                    "field_kek_version": 1,
                    "field_format": 1,
                }
            )
        async with engine.begin() as conn:
            await conn.execute(REPORTS.insert(), rows)

        checked = 0
        for trial in range(60):
            reader = Reader(rng.choice(PARTNERS), rng.choice(ROLES))
            policies = [
                Policy(
                    reader.partner, role, tuple(_grant(rng, n) for n in range(rng.randint(0, 3)))
                )
                for role in ROLES
                if rng.random() < 0.6
            ]
            # Sometimes another partner's policy too: it must never count for this reader.
            if rng.random() < 0.3:
                other = rng.choice([p for p in PARTNERS if p != reader.partner])
                policies.append(Policy(other, None, (_grant(rng, 99),)))
            report_grants = [
                ReportGrant(
                    id=f"rg{trial}-{n}",
                    report_id=rng.choice(metas).report_id,
                    partner=rng.choice([reader.partner, *PARTNERS]),
                    fields=frozenset({"narrative"}),
                    role=rng.choice(ROLES),
                )
                for n in range(rng.randint(0, 4))
            ]
            flt = candidate_filter(reader, policies, report_grants)
            async with engine.connect() as conn:
                result = await conn.execute(select(REPORTS.c.report_id).where(visible_clause(flt)))
                selected = {r.report_id for r in result}
            expected = {m.report_id for m in metas if flt.matches(m)}
            assert selected == expected, (trial, reader)
            visible = {
                m.report_id for m in metas if decide(reader, m, policies, report_grants).visible
            }
            assert visible <= selected, (trial, reader)
            checked += len(selected)
        assert checked > 1000  # the trials selected plenty, not just own reports
    finally:
        await engine.dispose()
