"""A new alert channel is one module in `delivery/channels/`: found without any other edit."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from services.alerts.delivery import channels

PAGER = """
KIND = "pager"


def from_settings(settings):
    return ("pager channel for", settings)
"""


def test_the_shipped_channels_are_found() -> None:
    assert set(channels.kinds()) >= {"webhook", "email"}


def test_a_module_dropped_into_the_package_is_a_channel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pager.py").write_text(PAGER)
    (tmp_path / "notes.py").write_text("HELP = 'a module without KIND is not a channel'\n")
    monkeypatch.setattr(channels, "__path__", [*channels.__path__, str(tmp_path)])
    try:
        found = channels._discover()
    finally:
        for name in ("pager", "notes"):
            sys.modules.pop(f"{channels.__name__}.{name}", None)
    assert set(found) - set(channels.kinds()) == {"pager"}  # one more than is shipped
    assert found["pager"]("settings") == ("pager channel for", "settings")


def test_two_modules_claiming_one_kind_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "other_email.py").write_text(PAGER.replace('"pager"', '"email"'))
    monkeypatch.setattr(channels, "__path__", [*channels.__path__, str(tmp_path)])
    try:
        with pytest.raises(RuntimeError, match="email"):
            channels._discover()
    finally:
        sys.modules.pop(f"{channels.__name__}.other_email", None)
