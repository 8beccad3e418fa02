"""The erasure ledger: the ids of erased reports, kept apart from backups, replayed by restore
so that a report erased after a backup stays erased when that backup is restored."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from libs.common.db import (
    checkpoint_wal,
    create_engine,
    create_sync_engine,
    is_sqlite,
    session_factory,
    transaction,
)
from libs.common.outbox import enqueue
from lifeline.backup.contents import database_url
from services.sharing.audit import repository as audit_log
from services.sharing.models import OUTBOX
from services.sharing.vault import repository as vrepo
from services.sharing.vault.domain import erased_event
from services.sharing.vault.releases import repository as release_requests

FORMAT = "lifeline-erasures/1"
ACTOR = "lifeline-restore"  # who the audit log says erased a report again on restore


@dataclass(frozen=True)
class Ledger:
    """Erased report ids (nothing else: no partner, no content) and when they were read."""

    exported_at: datetime
    report_ids: frozenset[str]

    def dumps(self) -> bytes:
        """The ledger file's bytes."""
        doc = {
            "format": FORMAT,
            "exported_at": self.exported_at.isoformat(),
            "report_ids": sorted(self.report_ids),
        }
        return json.dumps(doc, indent=1).encode()

    @classmethod
    def loads(cls, raw: bytes) -> Ledger:
        """Parse a ledger file."""
        try:
            doc: dict[str, Any] = json.loads(raw)
            if doc.get("format") != FORMAT:
                raise ValueError(f"not an erasure ledger ({FORMAT})")
            ids = doc["report_ids"]
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise ValueError("report_ids must be a list of ids")
            return cls(datetime.fromisoformat(doc["exported_at"]), frozenset(ids))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not an erasure ledger: {exc}") from None


def export(sharing_url: str) -> Ledger:
    """Every erased report id in a running network's sharing database."""
    engine = create_sync_engine(sharing_url)
    try:
        with engine.connect() as conn:
            erased = "SELECT report_id FROM vault_reports WHERE erased_at IS NOT NULL"
            ids = {r[0] for r in conn.execute(text(erased))}
    finally:
        engine.dispose()
    return Ledger(datetime.now(UTC), frozenset(ids))


@dataclass(frozen=True)
class Applied:
    """What replaying a ledger changed in a restored data directory."""

    shredded: int  # reports readable in the backup, crypto-shredded now
    withheld: int  # reports still in intake's outbox, never to be delivered
    announced: int  # `report.erased` events queued for alerts and intake


def _intake_reports(intake: Engine, ids: frozenset[str]) -> dict[str, tuple[str, str]]:
    with intake.connect() as conn:
        query = text("SELECT report_id, partner_id, event_id FROM reports")
        rows = conn.execute(query).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows if r[0] in ids}


def _withhold(intake: Engine, event_ids: list[str]) -> int:
    # The sealed copy of an erased report still waiting in intake's outbox is never published
    # (SQLite: zeroed by `secure_delete`, set on every connection by `libs.common.db`).
    with intake.begin() as conn:
        drop = text("DELETE FROM outbox WHERE event_id = :e")
        gone = sum(conn.execute(drop, {"e": e}).rowcount for e in event_ids)
    if is_sqlite(str(intake.url)):
        with intake.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return gone


async def replay(data_dir: Path, ledger: Ledger, urls: dict[str, str] | None = None) -> Applied:
    """Erase again, in the restored databases, every ledger report the backup still holds."""
    intake_db = create_sync_engine(database_url("intake", data_dir, urls or {}))
    try:
        intake = _intake_reports(intake_db, ledger.report_ids)
        withheld = _withhold(intake_db, [event for _, event in intake.values()])
    finally:
        intake_db.dispose()
    engine = create_engine(database_url("sharing", data_dir, urls or {}))
    sessions = session_factory(engine)
    now, shredded, announced = datetime.now(UTC), 0, 0
    try:
        async with transaction(sessions) as session:
            for report_id in sorted(ledger.report_ids):
                row = await vrepo.get_report(session, report_id)
                partner = row.partner_id if row is not None else intake.get(report_id, ("",))[0]
                if not partner:
                    continue  # never reached this backup: nothing of it to erase
                if row is not None and await vrepo.erase(session, report_id, ACTOR, now):
                    await release_requests.withdraw_report(session, report_id, now)
                    await audit_log.append(
                        session,
                        actor=ACTOR,
                        action="report.erase",
                        target=report_id,
                        details={"partner": partner, "by_partner": None, "ledger": True},
                        now=now,
                    )
                    shredded += 1
                # Alerts and intake learn it as they did the first time (they drop what they
                # derived from the report; doing so twice changes nothing).
                await enqueue(session, OUTBOX, erased_event(report_id, partner, now))
                announced += 1
        await checkpoint_wal(engine)
    finally:
        await engine.dispose()
    return Applied(shredded, withheld, announced)
