"""The command-line tool: --help everywhere, one-line errors without a traceback."""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
from pathlib import Path

import pytest

from lifeline.cli.base import ProgressBar, render_bar
from lifeline.cli.main import build_parser, main

LIFELINE = str(Path(sys.executable).parent / "lifeline")


def _all_parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _all_parsers(sub, (*path, name))


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    paths = [p for p, _ in _all_parsers(build_parser())]
    assert ("up",) in paths
    for path in paths:
        with pytest.raises(SystemExit) as exc:
            main([*path, "--help"])
        assert exc.value.code == 0
        assert "usage: lifeline" in capsys.readouterr().out


def test_entry_point_reports_errors_in_one_line(tmp_path: Path) -> None:
    # A file where the data directory should be: the error is one line, no traceback.
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = subprocess.run(
        [LIFELINE, "up", "--data-dir", str(blocker / "data"), "--nats-port", "1"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lifeline: error:"), result.stderr


def test_progress_bar_frames_and_silence_off_a_terminal() -> None:
    assert render_bar(0, 4, width=8) == "[........] 0/4"
    assert render_bar(3, 4, width=8) == "[######..] 3/4"
    assert render_bar(5, 4, width=8) == "[########] 5/4"  # never wider than its frame
    assert render_bar(0, 0, width=8) == "[........] 0/0"

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    for stream, drawn in ((Terminal(), True), (io.StringIO(), False)):
        bar = ProgressBar(2, stream)
        bar.update(1)
        bar.close()
        assert (stream.getvalue() == "\r" + render_bar(1, 2) + "\n") is drawn


def test_a_key_id_that_begins_with_a_dash_is_read_as_the_key_id() -> None:
    # Base64url thumbprints begin with "-" one time in 64: argparse alone refuses them.
    kid = "-4SUf44fCRtjJaXjM" + "a" * 26
    args = build_parser().parse_args(["admin", "key", "confirm", kid, "--fingerprint", "ab cd"])
    assert (args.kid, args.fingerprint) == (kid, "ab cd")
    assert build_parser().parse_args(["admin", "key", "revoke", kid]).kid == kid
    vault_kid = "-" + "b" * 21  # a vault key id (16 bytes)
    assert build_parser().parse_args(["admin", "key", "revoke", vault_kid]).kid == vault_kid
    # Anything else that starts with "-" is still an option, and an unknown one is refused.
    with pytest.raises(SystemExit):
        build_parser().parse_args(["admin", "key", "revoke", "--no-such-option"])
