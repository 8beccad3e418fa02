"""The child the supervisor runs before nats-server starts again (`lifeline.launch`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from libs.common.seal import root as seal_root
from libs.common.seal import sealfile
from lifeline.environment import NetworkConfig
from lifeline.launch import check_bus


def test_in_development_mode_it_issues_the_bus_with_the_root_key_beside_the_data(
    tmp_path: Path,
) -> None:
    sealfile.create(tmp_path / sealfile.SEAL_FILE, dev=True)
    before = seal_root.current()
    check_bus(tmp_path, "127.0.0.1", 4322)
    files = NetworkConfig(tmp_path).bus_files
    assert files.ca_key.exists() and files.cert("server").exists()
    assert "4322" in files.config.read_text()
    assert seal_root.current() is before  # held only while issuing


def test_with_no_root_key_at_hand_what_must_be_issued_is_one_line_and_a_failed_exit(
    tmp_path: Path,
) -> None:
    # No key beside the data (as on a sealed network) and no CA yet: nothing can be issued.
    check = [sys.executable, "-m", "lifeline.launch", "--check-bus", str(tmp_path)]
    result = subprocess.run(
        [*check, "127.0.0.1", "4322"], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode != 0
    # The supervisor quotes this line after "nats-server could not start: ".
    assert result.stderr.strip().startswith("the bus has no CA yet, and the bus's CA key is sealed")
    assert not NetworkConfig(tmp_path).bus_files.ca_key.exists()
