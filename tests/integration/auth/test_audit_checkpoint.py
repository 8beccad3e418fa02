"""Signed audit checkpoints, kept by a partner, catch what the hash chain alone lets through.

The adversary of these tests holds the database: it deletes the tail of the audit log, or
deletes a row and re-chains (and renumbers) every later one, so that `audit verify` without a
kept checkpoint still answers "intact". Checked against a checkpoint kept before, it fails.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from libs.common.auth.audit import GENESIS_HASH, entry_hash
from libs.common.crypto.signing_file import SigningKeyFile
from libs.sdk import save_private_key
from lifeline.cli.main import main
from lifeline.cli.profile import Profile, save_profile
from services.sharing.audit.service import CHECKPOINT_KEY_FORMAT
from tests.integration.auth.conftest import Sharing
from tests.support.access import Client


# The CLI runs in a thread with an event loop of its own: it needs sharing on a port.
@pytest.fixture
def sharing(wire_sharing: Sharing) -> Sharing:
    """A sharing under uvicorn."""
    return wire_sharing


async def _cli(
    sharing: Sharing,
    client: Client,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    *args: str,
) -> tuple[int, dict[str, Any]]:
    key_path = tmp_path / f"{client.client_id}.pem"
    if not key_path.exists():
        save_private_key(client.key, key_path)
    profile = tmp_path / f"{client.client_id}.json"
    save_profile(profile, Profile(sharing.url, client_id=client.client_id, key_path=str(key_path)))
    capsys.readouterr()
    code = await asyncio.to_thread(
        main, ["admin", "audit", *args, "--profile", str(profile), "--json"]
    )
    out = capsys.readouterr()
    # A refusal before any answer is one line on stderr, not JSON.
    return code, json.loads(out.out) if out.out else {"error": out.err}


async def _history(sharing: Sharing, *names: str) -> None:
    for name in names:
        resp = await sharing.admin_call("POST", "/v1/admin/partners", json={"name": name})
        assert resp.status_code == 201


async def _delete_and_rechain(sharing: Sharing, seq: int) -> None:
    """What the adversary did: drop one entry, renumber and re-hash everything after it."""
    async with sharing.engine.begin() as conn:
        await conn.execute(text("DELETE FROM audit_log WHERE seq = :s"), {"s": seq})
        rows = (await conn.execute(text("SELECT * FROM audit_log ORDER BY seq"))).mappings().all()
        await conn.execute(text("DELETE FROM audit_log"))
        prev = GENESIS_HASH
        for n, row in enumerate(rows, start=1):
            fields = {k: row[k] for k in ("at", "actor", "action", "target")}
            digest = entry_hash(prev, seq=n, details=json.loads(row["details"]), **fields)
            await conn.execute(
                text(
                    "INSERT INTO audit_log (seq, at, actor, action, target, details, prev_hash,"
                    " hash) VALUES (:seq, :at, :actor, :action, :target, :details, :p, :h)"
                ),
                {**fields, "seq": n, "details": row["details"], "p": prev, "h": digest},
            )
            prev = digest


async def test_a_partner_keeps_checkpoints_and_an_untouched_log_passes(
    sharing: Sharing, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    partner = await sharing.client("reports:submit")  # any registered client may witness
    kept = tmp_path / "kept.json"
    code, first = await _cli(sharing, partner, tmp_path, capsys, "checkpoint", "--save", str(kept))
    assert code == 0 and first["ok"] is True, first
    size = first["checkpoint"]["size"]
    assert json.loads(kept.read_text())["checkpoint"]["size"] == size

    await _history(sharing, "A", "B", "C")
    code, second = await _cli(sharing, partner, tmp_path, capsys, "checkpoint", "--save", str(kept))
    assert code == 0 and second["checkpoint"]["size"] == size + 3
    assert second["key"]["fingerprint"] == first["key"]["fingerprint"]

    code, result = await _cli(
        sharing, sharing.admin, tmp_path, capsys, "verify", "--against", str(kept)
    )
    assert code == 0, result
    assert result["ok"] is True and result["against"] == {
        "size": size + 3, "ok": True, "reason": None, "latest_size": size + 3,
    }  # fmt: skip


async def test_a_deleted_tail_fails_against_a_kept_checkpoint(
    sharing: Sharing, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await _history(sharing, "A", "B", "C")
    kept = tmp_path / "kept.json"
    assert (
        await _cli(sharing, sharing.admin, tmp_path, capsys, "checkpoint", "--save", str(kept))
    )[0] == 0
    kept_text = kept.read_text()
    await sharing.sql("DELETE FROM audit_log WHERE seq > 3")

    # The chain alone cannot tell: what is left is a perfectly good shorter chain.
    code, alone = await _cli(sharing, sharing.admin, tmp_path, capsys, "verify")
    assert code == 0 and alone["ok"] is True

    code, result = await _cli(
        sharing, sharing.admin, tmp_path, capsys, "verify", "--against", str(kept)
    )
    assert code == 1 and result["ok"] is False
    assert result["against"]["reason"] == "truncated"
    code, witnessed = await _cli(
        sharing, sharing.admin, tmp_path, capsys, "checkpoint", "--save", str(kept)
    )
    assert code == 1 and witnessed["reason"] == "truncated"
    assert kept.read_text() == kept_text  # the evidence is kept, not replaced


async def test_a_deleted_and_rechained_row_fails_against_a_kept_checkpoint(
    sharing: Sharing, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    partner = await sharing.client("reports:read")
    await _history(sharing, "A", "B", "C")
    kept = tmp_path / "kept.json"
    assert (await _cli(sharing, partner, tmp_path, capsys, "checkpoint", "--save", str(kept)))[
        0
    ] == 0
    await _delete_and_rechain(sharing, 3)
    # Later activity grows the log past the kept size again: only the proof can tell.
    await _history(sharing, "D", "E")

    code, alone = await _cli(sharing, sharing.admin, tmp_path, capsys, "verify")
    assert code == 0 and alone["ok"] is True

    code, witnessed = await _cli(
        sharing, partner, tmp_path, capsys, "checkpoint", "--save", str(kept)
    )
    assert code == 1 and witnessed["reason"] == "rewritten"
    code, result = await _cli(
        sharing, sharing.admin, tmp_path, capsys, "verify", "--against", str(kept)
    )
    assert code == 1 and result["against"]["reason"] == "rewritten"


async def test_a_checkpoint_from_another_key_is_refused(
    sharing: Sharing, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kept = tmp_path / "kept.json"
    code, refused = await _cli(
        sharing, sharing.admin, tmp_path, capsys, "checkpoint", "--save", str(kept),
        "--expect-fingerprint", "00" * 32,
    )  # fmt: skip
    assert code == 1 and "fingerprint differs" in refused["error"] and not kept.exists()
    # A swapped key file (the adversary's own key) signs checkpoints no kept one accepts.
    assert (
        await _cli(sharing, sharing.admin, tmp_path, capsys, "checkpoint", "--save", str(kept))
    )[0] == 0
    path = sharing.settings.audit_signing_key_file()
    SigningKeyFile(tmp_path / "other.json", format=CHECKPOINT_KEY_FORMAT)
    os.replace(tmp_path / "other.json", path)
    code, result = await _cli(
        sharing, sharing.admin, tmp_path, capsys, "checkpoint", "--save", str(kept)
    )
    assert code == 1 and result["reason"] == "key"
