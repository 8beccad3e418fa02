"""Editing the audit log in the database is detected by `lifeline admin audit verify`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from libs.common.auth.audit import canonical_json, entry_hash
from libs.sdk import save_private_key
from lifeline.cli.main import main
from lifeline.cli.profile import Profile, save_profile
from tests.integration.auth.conftest import Sharing


# The CLI runs in a thread with an event loop of its own: it needs sharing on a port.
@pytest.fixture
def sharing(wire_sharing: Sharing) -> Sharing:
    """A sharing under uvicorn."""
    return wire_sharing


async def _verify_with_cli(
    sharing: Sharing, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, object]]:
    key_path = tmp_path / "admin.pem"
    if not key_path.exists():
        save_private_key(sharing.admin.key, key_path)
    profile = tmp_path / "admin.json"
    save_profile(
        profile, Profile(sharing.url, client_id=sharing.admin.client_id, key_path=str(key_path))
    )
    capsys.readouterr()
    code = await asyncio.to_thread(
        main, ["admin", "audit", "verify", "--profile", str(profile), "--json"]
    )
    return code, json.loads(capsys.readouterr().out)


async def _some_history(sharing: Sharing) -> None:
    for name in ("A", "B", "C"):
        resp = await sharing.admin_call(
            "POST", "/v1/admin/partners", json={"name": f"Partner {name}"}
        )
        assert resp.status_code == 201


async def test_an_intact_log_verifies(
    sharing: Sharing, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await _some_history(sharing)
    code, result = await _verify_with_cli(sharing, tmp_path, capsys)
    assert code == 0 and result["ok"] is True and result["checked"] == 6


async def test_editing_one_row_is_reported_at_that_row(
    sharing: Sharing, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await _some_history(sharing)
    await sharing.sql(
        "UPDATE audit_log SET details = :d WHERE seq = 5",
        d=canonical_json({"name": "Someone else"}),
    )
    code, result = await _verify_with_cli(sharing, tmp_path, capsys)
    assert code == 1
    assert (result["ok"], result["broken_seq"], result["reason"]) == (False, 5, "hash")
    server = (await sharing.admin_call("GET", "/v1/admin/audit/verify")).json()
    assert server["ok"] is False and server["broken_seq"] == 5


async def test_rehashing_the_edited_row_moves_the_break_to_the_next_one(
    sharing: Sharing, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await _some_history(sharing)
    page = (await sharing.admin_call("GET", "/v1/admin/audit")).json()["entries"]
    row = page[3]  # seq 4
    forged = entry_hash(
        row["prev_hash"],
        seq=row["seq"],
        at=row["at"],
        actor="cli_innocent",
        action=row["action"],
        target=row["target"],
        details=row["details"],
    )
    await sharing.sql(
        "UPDATE audit_log SET actor = 'cli_innocent', hash = :h WHERE seq = 4", h=forged
    )
    code, result = await _verify_with_cli(sharing, tmp_path, capsys)
    assert code == 1 and (result["broken_seq"], result["reason"]) == (5, "prev_hash")


async def test_a_deleted_row_is_reported(
    sharing: Sharing, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await _some_history(sharing)
    await sharing.sql("DELETE FROM audit_log WHERE seq = 2")
    code, result = await _verify_with_cli(sharing, tmp_path, capsys)
    assert code == 1 and (result["broken_seq"], result["reason"]) == (2, "gap")
