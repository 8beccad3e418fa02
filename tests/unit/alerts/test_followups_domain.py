"""Follow-ups' pure rules: which status is worse news, and when an alert re-opens."""

from __future__ import annotations

import pytest

from libs.common.reports import Status
from services.alerts.followups.domain import (
    BASELINE,
    SEVERITY,
    current_status,
    is_worse,
    notice_step,
    reopens,
)


def test_every_status_of_the_vocabulary_but_unknown_has_a_rank() -> None:
    assert set(SEVERITY) == {s.value for s in Status} - {"unknown"}


@pytest.mark.parametrize(
    ("new", "current", "worse"),
    [
        ("deported", "ongoing", True),
        ("extradition_decided", "ongoing", True),
        ("transferred", "ongoing", True),
        ("extradited", "extradition_decided", True),
        ("released", "ongoing", False),
        ("released", "deported", False),
        ("ongoing", "released", True),  # held again after a release
        ("ongoing", "ongoing", False),
        ("deported", "extradited", False),  # equally bad: no news that calls for escalation
        ("unknown", "released", False),
        ("no_such_status", "released", False),
    ],
)
def test_worse_is_a_higher_rank(new: str, current: str, worse: bool) -> None:
    assert is_worse(new, current) is worse


def test_the_current_status_is_the_last_known_one() -> None:
    assert current_status([]) == BASELINE == "ongoing"
    assert current_status(["deported", "released"]) == "released"
    assert current_status(["deported", "unknown"]) == "deported"


@pytest.mark.parametrize(
    ("new", "alert_status", "reopened"),
    [
        ("deported", "acknowledged", True),
        ("released", "acknowledged", False),
        ("deported", "open", False),  # escalating already
        ("deported", "resolved", False),  # a closed case: a new report opens a new alert
        ("deported", "withdrawn", False),
    ],
)
def test_only_worse_news_reopens_an_acknowledged_alert(
    new: str, alert_status: str, reopened: bool
) -> None:
    assert reopens(new, "ongoing", alert_status) is reopened


def test_notice_steps_are_their_own_key_space() -> None:
    assert notice_step(1) != notice_step(2)
    assert notice_step(1) > 1_002  # beyond the ack, withdrawal and release notices
