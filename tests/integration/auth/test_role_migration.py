"""Migration 0006 on existing rows: every client gets the role its scopes imply, within bound."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from libs.common import db
from services.sharing.app import MIGRATIONS

NOW = datetime(2026, 1, 1, tzinfo=UTC)
CLIENTS = {
    # id: (partner, old scopes, expected role, expected scopes)
    "cli_op": ("ptn_op", "admin", "operator", "admin"),
    "cli_rogue": ("ptn_a", "admin reports:read", "partner_admin", "clients:manage reports:read"),
    "cli_sub": ("ptn_a", "reports:submit", "submitter", "reports:submit"),
    "cli_read": ("ptn_a", "reports:read reports:submit", "reader", "reports:read reports:submit"),
    "cli_law": ("ptn_a", "alerts:read reports:read", "lawyer", "alerts:read reports:read"),
}


def _upgrade_to(conn: Connection, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    command.upgrade(config, revision)


async def test_existing_clients_and_policies_get_registered_roles(db_url: str) -> None:
    engine = db.create_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade_to, "0005")
            for pid, operator in (("ptn_op", True), ("ptn_a", False)):
                await conn.execute(
                    text(
                        "INSERT INTO partners (id, name, status, is_operator, created_at)"
                        " VALUES (:id, 'p', 'active', :op, :now)"
                    ),
                    {"id": pid, "op": operator, "now": NOW},
                )
            for cid, (pid, scopes, _, _) in CLIENTS.items():
                await conn.execute(
                    text(
                        "INSERT INTO api_clients (id, partner_id, name, scopes, status, created_at)"
                        " VALUES (:id, :pid, 'c', :scopes, 'active', :now)"
                    ),
                    {"id": cid, "pid": pid, "scopes": scopes, "now": NOW},
                )
            doc = {"partner": "ptn_a", "role": "analyst", "grants": []}
            await conn.execute(
                text(
                    "INSERT INTO vault_policies (partner_id, role, document, version, updated_at,"
                    " updated_by) VALUES ('ptn_a', 'analyst', :doc, 1, :now, 'x')"
                ),
                {"doc": json.dumps(doc), "now": NOW},
            )
            await conn.run_sync(_upgrade_to, "head")
            rows = (await conn.execute(text("SELECT id, role, scopes FROM api_clients"))).all()
            policy = (await conn.execute(text("SELECT role, document FROM vault_policies"))).one()
        assert {r.id: (r.role, r.scopes) for r in rows} == {
            cid: (role, scopes) for cid, (_, _, role, scopes) in CLIENTS.items()
        }
        assert policy.role == "reader" and json.loads(policy.document)["role"] == "reader"
    finally:
        await engine.dispose()
