"""Backup and restore on real service databases (the services' own migrations, SQLite): what
is copied, and everything refused before a single file is written."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from libs.common.db import create_engine, migrate
from lifeline.cli.main import main

SERVICES = ("intake", "sharing", "alerts")
ROOT = Path(__file__).resolve().parents[3]


async def _data_dir(tmp: Path) -> Path:
    data = tmp / "data"
    (data / "keys").mkdir(parents=True)
    (data / "bus").mkdir()
    for name in SERVICES:
        engine = create_engine(f"sqlite+aiosqlite:///{data / f'{name}.db'}")
        await migrate(engine, ROOT / "services" / name / "migrations")
        await engine.dispose()
    (data / "seal.json").write_text('{"methods": ["dev"]}')
    (data / "keys" / "sharing-kek.json").write_bytes(b"sealed kek")
    (data / "keys" / "sharing-signing.json.lock").write_bytes(b"")
    (data / "bus" / "ca.pem").write_bytes(b"ca")
    for path in (data / "keys").iterdir():
        path.chmod(0o600)
    return data


def _sql(db: Path, statement: str, *args: object) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        with conn:
            return conn.execute(statement, args).fetchall()
    finally:
        conn.close()


def _report(data: Path, report_id: str, event_id: str, *, in_outbox: bool) -> None:
    _sql(data / "intake.db",
         "INSERT INTO reports (report_id, partner_id, client_id, client_report_id, received_at,"
         " content_mac, event_id) VALUES (?, 'p1', 'c1', ?, '2026-12-01 10:00:00', 'mac', ?)",
         report_id, report_id, event_id)  # fmt: skip
    if in_outbox:
        _sql(data / "intake.db",
             "INSERT INTO outbox (event_id, subject, payload, created_at) VALUES"
             " (?, 'lifeline.report.received.v1', ?, '2026-12-01 10:00:00')",
             event_id, b"{}")  # fmt: skip


def _handled(data: Path, service: str, event_id: str) -> None:
    _sql(data / f"{service}.db",
         "INSERT INTO processed_events (event_id, event_type, processed_at) VALUES"
         " (?, 'lifeline.report.received.v1', '2026-12-01 10:00:01')", event_id)  # fmt: skip


@pytest.fixture
async def made(tmp_path: Path) -> dict[str, Path]:
    data = await _data_dir(tmp_path)
    _report(data, "r-published", "e-published", in_outbox=False)
    _report(data, "r-pending", "e-pending", in_outbox=True)
    for service in ("sharing", "alerts"):
        _handled(data, service, "e-published")
    key = tmp_path / "backup.key"
    assert main(["backup", "keygen", "--out", str(key)]) == 0
    out = tmp_path / "net.backup"
    assert main(["backup", "create", "--data-dir", str(data), "--out", str(out),
                 "--recipient", f"{key}.pub"]) == 0  # fmt: skip
    ledger = tmp_path / "erasures.json"
    ledger.write_text(json.dumps({"format": "lifeline-erasures/1", "report_ids": ["r-pending"],
                                  "exported_at": datetime.now(UTC).isoformat()}))  # fmt: skip
    return {"data": data, "key": key, "backup": out, "ledger": ledger, "tmp": tmp_path}


def _restore(made: dict[str, Path], target: Path, *extra: str) -> int:
    return main(["backup", "restore", str(made["backup"]), "--key", str(made["key"]),
                 "--data-dir", str(target), *extra])  # fmt: skip


def test_a_restore_holds_the_databases_and_keys_owner_only(made: dict[str, Path]) -> None:
    target = made["tmp"] / "restored"
    assert _restore(made, target, "--erasures", str(made["ledger"])) == 0
    assert (target / "keys" / "sharing-kek.json").read_bytes() == b"sealed kek"
    assert (target / "bus" / "ca.pem").read_bytes() == b"ca"
    assert not (target / "keys" / "sharing-signing.json.lock").exists()
    assert not (target / "nats").exists()
    for path in [target, *target.rglob("*")]:
        assert path.stat().st_mode & 0o077 == 0, path
    rows = _sql(target / "intake.db", "SELECT report_id FROM reports ORDER BY report_id")
    assert rows == [("r-pending",), ("r-published",)]
    # The erased report's sealed copy waiting in intake's outbox is never published again.
    assert _sql(target / "intake.db", "SELECT event_id FROM outbox") == []
    # And alerts and intake hear of the erasure again from sharing's outbox.
    (subject,) = _sql(target / "sharing.db", "SELECT subject FROM outbox")
    assert subject == ("lifeline.report.erased.v1",)


def test_a_non_empty_directory_is_refused(made: dict[str, Path]) -> None:
    target = made["tmp"] / "busy"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    assert _restore(made, target, "--without-erasures") == 1
    assert [p.name for p in target.iterdir()] == ["notes.txt"]


@pytest.mark.parametrize("offset", [100, -10])
def test_an_altered_file_writes_nothing(made: dict[str, Path], offset: int) -> None:
    raw = bytearray(made["backup"].read_bytes())
    raw[offset] ^= 1
    made["backup"].write_bytes(bytes(raw))
    target = made["tmp"] / "restored"
    assert _restore(made, target, "--without-erasures") == 1
    assert not target.exists()
    assert main(["backup", "verify", str(made["backup"]), "--key", str(made["key"])]) == 1


def test_another_key_and_a_stale_ledger_are_refused(made: dict[str, Path]) -> None:
    other = made["tmp"] / "other.key"
    assert main(["backup", "keygen", "--out", str(other)]) == 0
    target = made["tmp"] / "restored"
    assert main(["backup", "restore", str(made["backup"]), "--key", str(other),
                 "--data-dir", str(target), "--without-erasures"]) == 1  # fmt: skip
    stale = made["tmp"] / "stale.json"
    before = datetime.now(UTC) - timedelta(days=1)
    stale.write_text(json.dumps({"format": "lifeline-erasures/1", "report_ids": [],
                                 "exported_at": before.isoformat()}))  # fmt: skip
    assert _restore(made, target, "--erasures", str(stale)) == 1
    assert not target.exists()


def test_keygen_never_overwrites_the_backup_key(made: dict[str, Path]) -> None:
    before = made["key"].read_bytes()
    assert main(["backup", "keygen", "--out", str(made["key"])]) == 1
    assert made["key"].read_bytes() == before


async def test_create_waits_for_consumers_and_refuses_when_one_lags(tmp_path: Path) -> None:
    data = await _data_dir(tmp_path)
    _report(data, "r-1", "e-1", in_outbox=False)  # published, but alerts never handled it
    _handled(data, "sharing", "e-1")
    key = tmp_path / "backup.key"
    assert main(["backup", "keygen", "--out", str(key)]) == 0
    out = tmp_path / "net.backup"
    assert main(["backup", "create", "--data-dir", str(data), "--out", str(out),
                 "--recipient", f"{key}.pub", "--catch-up-timeout", "0.5"]) == 1  # fmt: skip
    assert not out.exists() and not list(tmp_path.glob(".net.backup*"))
