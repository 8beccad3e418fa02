"""Backup and restore on real service databases (the services' own migrations, SQLite): what
is copied, and everything refused before a single file is written."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from libs.common.db import create_engine, create_sync_engine, migrate
from lifeline.backup.contents import database_url
from lifeline.cli.main import main
from tests.support.databases import Databases

SERVICES = ("intake", "sharing", "alerts")
ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Net:
    """A data directory and the services' databases (SQLite files in it, or PostgreSQL)."""

    tmp: Path
    data: Path
    urls: dict[str, str]  # empty on SQLite
    databases: Databases

    def sql(self, service: str, statement: str, **params: object) -> list[Any]:
        """Run one statement on a service's database; its rows, if any."""
        engine = create_sync_engine(database_url(service, self.data, self.urls))
        try:
            with engine.begin() as conn:
                result = conn.execute(text(statement), params)
                return [tuple(r) for r in result] if result.returns_rows else []
        finally:
            engine.dispose()

    def targets(self) -> list[str]:
        """`--database-url` flags naming new, empty databases (PostgreSQL only)."""
        if not self.urls:
            return []
        self.restored = {s: self.databases(f"{s}-restored") for s in SERVICES}
        return [arg for s, u in self.restored.items() for arg in ("--database-url", f"{s}={u}")]

    def restored_sql(self, target: Path, service: str, statement: str) -> list[Any]:
        """Rows of one query on a restored database."""
        urls = getattr(self, "restored", {})
        return Net(self.tmp, target, urls, self.databases).sql(service, statement)


async def _net(tmp: Path, databases: Databases, monkeypatch: pytest.MonkeyPatch) -> Net:
    data = tmp / "data"
    (data / "keys").mkdir(parents=True)
    (data / "bus").mkdir()
    urls = {}
    for name in SERVICES:
        url = databases(name)
        if databases.backend == "postgresql":
            urls[name] = url
            monkeypatch.setenv(f"LIFELINE_{name.upper()}_DATABASE_URL", url)
        engine = create_engine(database_url(name, data, urls))
        await migrate(engine, ROOT / "services" / name / "migrations")
        await engine.dispose()
    (data / "seal.json").write_text('{"methods": ["dev"]}')
    (data / "keys" / "sharing-kek.json").write_bytes(b"sealed kek")
    (data / "keys" / "sharing-signing.json.lock").write_bytes(b"")
    (data / "bus" / "ca.pem").write_bytes(b"ca")
    for path in (data / "keys").iterdir():
        path.chmod(0o600)
    return Net(tmp, data, urls, databases)


def _report(net: Net, report_id: str, event_id: str, *, in_outbox: bool) -> None:
    net.sql("intake",
            "INSERT INTO reports (report_id, partner_id, client_id, client_report_id, received_at,"
            " content_mac, event_id) VALUES (:r, 'p1', 'c1', :r, '2026-12-01 10:00:00', 'mac', :e)",
            r=report_id, e=event_id)  # fmt: skip
    if in_outbox:
        net.sql("intake",
                "INSERT INTO outbox (event_id, subject, payload, created_at) VALUES"
                " (:e, 'lifeline.report.received.v1', :p, '2026-12-01 10:00:00')",
                e=event_id, p=b"{}")  # fmt: skip


def _handled(net: Net, service: str, event_id: str) -> None:
    net.sql(service,
            "INSERT INTO processed_events (event_id, event_type, processed_at) VALUES"
            " (:e, 'lifeline.report.received.v1', '2026-12-01 10:00:01')", e=event_id)  # fmt: skip


@pytest.fixture
async def made(
    tmp_path: Path, db_url_factory: Databases, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    net = await _net(tmp_path, db_url_factory, monkeypatch)
    _report(net, "r-published", "e-published", in_outbox=False)
    _report(net, "r-pending", "e-pending", in_outbox=True)
    for service in ("sharing", "alerts"):
        _handled(net, service, "e-published")
    key = tmp_path / "backup.key"
    assert main(["backup", "keygen", "--out", str(key)]) == 0
    out = tmp_path / "net.backup"
    assert main(["backup", "create", "--data-dir", str(net.data), "--out", str(out),
                 "--recipient", f"{key}.pub"]) == 0  # fmt: skip
    ledger = tmp_path / "erasures.json"
    ledger.write_text(json.dumps({"format": "lifeline-erasures/1", "report_ids": ["r-pending"],
                                  "exported_at": datetime.now(UTC).isoformat()}))  # fmt: skip
    return {"net": net, "key": key, "backup": out, "ledger": ledger, "tmp": tmp_path}


def _restore(made: dict[str, Any], target: Path, *extra: str) -> int:
    return main(["backup", "restore", str(made["backup"]), "--key", str(made["key"]),
                 "--data-dir", str(target), *made["net"].targets(), *extra])  # fmt: skip


def test_a_restore_holds_the_databases_and_keys_owner_only(made: dict[str, Any]) -> None:
    target = made["tmp"] / "restored"
    assert _restore(made, target, "--erasures", str(made["ledger"])) == 0
    assert (target / "keys" / "sharing-kek.json").read_bytes() == b"sealed kek"
    assert (target / "bus" / "ca.pem").read_bytes() == b"ca"
    assert not (target / "keys" / "sharing-signing.json.lock").exists()
    assert not (target / "nats").exists()
    for path in [target, *target.rglob("*")]:
        assert path.stat().st_mode & 0o077 == 0, path
    net: Net = made["net"]
    rows = net.restored_sql(target, "intake", "SELECT report_id FROM reports ORDER BY report_id")
    assert rows == [("r-pending",), ("r-published",)]
    # The erased report's sealed copy waiting in intake's outbox is never published again.
    assert net.restored_sql(target, "intake", "SELECT event_id FROM outbox") == []
    # And alerts and intake hear of the erasure again from sharing's outbox.
    (subject,) = net.restored_sql(target, "sharing", "SELECT subject FROM outbox")
    assert subject == ("lifeline.report.erased.v1",)


def test_a_non_empty_directory_is_refused(made: dict[str, Any]) -> None:
    target = made["tmp"] / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    assert _restore(made, target, "--without-erasures") == 1
    assert [p.name for p in target.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize("offset", [100, -10])
def test_an_altered_file_writes_nothing(made: dict[str, Any], offset: int) -> None:
    raw = bytearray(made["backup"].read_bytes())
    raw[offset] ^= 1
    made["backup"].write_bytes(bytes(raw))
    target = made["tmp"] / "restored"
    assert _restore(made, target, "--without-erasures") == 1
    assert not target.exists()
    assert main(["backup", "verify", str(made["backup"]), "--key", str(made["key"])]) == 1


def test_another_key_and_a_stale_ledger_are_refused(made: dict[str, Any]) -> None:
    other = made["tmp"] / "other.key"
    assert main(["backup", "keygen", "--out", str(other)]) == 0
    target = made["tmp"] / "restored"
    assert main(["backup", "restore", str(made["backup"]), "--key", str(other),
                 "--data-dir", str(target), *made["net"].targets(), "--without-erasures"]) == 1  # fmt: skip
    stale = made["tmp"] / "stale.json"
    before = datetime.now(UTC) - timedelta(days=1)
    stale.write_text(json.dumps({"format": "lifeline-erasures/1", "report_ids": [],
                                 "exported_at": before.isoformat()}))  # fmt: skip
    assert _restore(made, target, "--erasures", str(stale)) == 1
    assert not target.exists()


def test_keygen_never_overwrites_the_backup_key(made: dict[str, Any]) -> None:
    before = made["key"].read_bytes()
    assert main(["backup", "keygen", "--out", str(made["key"])]) == 1
    assert made["key"].read_bytes() == before


async def test_create_waits_for_consumers_and_refuses_when_one_lags(
    tmp_path: Path, db_url_factory: Databases, monkeypatch: pytest.MonkeyPatch
) -> None:
    net = await _net(tmp_path, db_url_factory, monkeypatch)
    _report(net, "r-1", "e-1", in_outbox=False)  # published, but alerts never handled it
    _handled(net, "sharing", "e-1")
    key = tmp_path / "backup.key"
    assert main(["backup", "keygen", "--out", str(key)]) == 0
    out = tmp_path / "net.backup"
    assert main(["backup", "create", "--data-dir", str(net.data), "--out", str(out),
                 "--recipient", f"{key}.pub", "--catch-up-timeout", "0.5"]) == 1  # fmt: skip
    assert not out.exists() and not list(tmp_path.glob(".net.backup*"))
