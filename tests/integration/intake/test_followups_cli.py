"""`lifeline report submit --follows`: a follow-up from the CLI, with no person, prints its id."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from lifeline.cli.profile import save_profile
from tests.integration.intake.test_ngo_client import CSV, LIFELINE, _run, wire_network

__all__ = ["wire_network"]  # the fixture, shared with the NGO client's tests

FOLLOW_UP = [
    {
        "client_report_id": "kg-1-deported",
        "incident_type": "deportation",
        "occurred_at": "2026-11-21",
        "place": {"country": "KG", "facility_kind": "airport"},
        "status": "deported",
        "tlp": "AMBER",
        "narrative": "Put on a flight to Moscow at 04:10.",
    }
]


async def test_a_follow_up_is_submitted_with_follows_and_its_id_printed(wire_network) -> None:  # type: ignore[no-untyped-def]
    profile, tmp_path = wire_network
    profile_file = tmp_path / "profile.json"
    save_profile(profile_file, profile)
    env = {**os.environ, "LIFELINE_PROFILE": str(profile_file)}
    originals = tmp_path / "reports.csv"
    originals.write_text(CSV)
    first = await _run([LIFELINE, "report", "submit", str(originals), "--json"], env)
    ids = {r["client_report_id"]: r["report_id"] for r in json.loads(first.stdout)["reports"]}
    original = ids["kg-1"]

    follow_up = tmp_path / "follow-up.json"
    follow_up.write_text(json.dumps(FOLLOW_UP))
    argv = [LIFELINE, "report", "submit", str(follow_up), "--follows", original]
    done = await _run(argv, env)
    assert done.returncode == 0, done.stdout + done.stderr
    # The human summary names the new report's id: receipts, grants and erasure need it.
    printed = re.search(r"kg-1-deported -> ([0-9a-f-]{36})", done.stdout)
    assert printed and printed.group(1) != original, done.stdout

    # Someone else's (or no) report cannot be followed up: the row is refused, not sent.
    other = Path(tmp_path / "other.json")
    other.write_text(json.dumps([{**FOLLOW_UP[0], "client_report_id": "kg-1-other"}]))
    refused = await _run(
        [LIFELINE, "report", "submit", str(other), "--json", "--follows", "0" * 8], env
    )
    summary = json.loads(refused.stdout)
    assert refused.returncode == 65 and summary["accepted"] == 0
    assert summary["rejected"][0]["reasons"] == ["follows: not one of your reports"]
