"""A profile on the local network needs no service URLs; one for another network gets none."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from lifeline.cli.profile import DEFAULT_SHARING_URL, LOCAL_URLS, load_profile, updated


def _args(**values: str) -> argparse.Namespace:
    return argparse.Namespace(**{"key": None, **values})


def test_a_local_profile_reaches_every_local_service(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    saved = {"sharing_url": DEFAULT_SHARING_URL, "intake_url": "", "alerts_url": ""}
    path.write_text(json.dumps(saved))
    profile = load_profile(path)
    assert (profile.intake_url, profile.alerts_url) == (
        LOCAL_URLS["intake_url"],
        LOCAL_URLS["alerts_url"],
    )
    assert load_profile(tmp_path / "none.json").intake_url == LOCAL_URLS["intake_url"]


def test_a_profile_of_another_network_gets_no_local_url(tmp_path: Path) -> None:
    path = tmp_path / "profile.json"
    remote = "https://sharing.example.org"
    path.write_text(json.dumps({"sharing_url": remote, "intake_url": "", "alerts_url": ""}))
    assert (load_profile(path).intake_url, load_profile(path).alerts_url) == ("", "")
    # Signing in to another network from the defaults drops the local services' URLs …
    moved = updated(load_profile(tmp_path / "none.json"), _args(sharing_url=remote))
    assert (moved.sharing_url, moved.intake_url, moved.alerts_url) == (remote, "", "")
    # … but keeps what the command line gave.
    given = updated(
        load_profile(tmp_path / "none.json"),
        _args(sharing_url=remote, intake_url="https://intake.example.org/"),
    )
    assert given.intake_url == "https://intake.example.org"
