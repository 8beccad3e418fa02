"""`lifeline up --sealed` turns two-person approval on for sharing; the demo leaves it off."""

from __future__ import annotations

from pathlib import Path

import pytest

from lifeline.environment import NetworkConfig, service_env
from services.sharing.approvals.domain import ApprovalAction
from services.sharing.settings import SharingSettings

NAMES = [
    "LIFELINE_SHARING_APPROVAL_KEY_REGISTRATION",
    "LIFELINE_SHARING_APPROVAL_POLICY_CHANGE",
    "LIFELINE_SHARING_APPROVAL_ERASURE",
    "LIFELINE_SHARING_APPROVAL_SEIZURE_LIFT",
]


def _settings(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> SharingSettings:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        if name in NAMES:
            monkeypatch.setenv(name, value)
    return SharingSettings(data_dir=Path("/nonexistent"))


def test_sealed_gates_every_action_and_the_demo_none(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)
    sealed = service_env(NetworkConfig(data_dir=Path("/x"), sealed=True), "sharing")
    demo = service_env(NetworkConfig(data_dir=Path("/x")), "sharing")
    intake = service_env(NetworkConfig(data_dir=Path("/x"), sealed=True), "intake")

    assert _settings(sealed, monkeypatch).approval_required() == frozenset(ApprovalAction)
    assert _settings(demo, monkeypatch).approval_required() == frozenset()
    assert not [name for name in intake if "APPROVAL" in name]


def test_an_operators_own_setting_wins_when_sealed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIFELINE_SHARING_APPROVAL_ERASURE", "false")
    sealed = service_env(NetworkConfig(data_dir=Path("/x"), sealed=True), "sharing")
    assert sealed["LIFELINE_SHARING_APPROVAL_ERASURE"] == "false"
    assert sealed["LIFELINE_SHARING_APPROVAL_SEIZURE_LIFT"] == "true"
