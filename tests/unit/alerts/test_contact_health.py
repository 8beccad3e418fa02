"""Contact health rules: a contact's state from its counters and key, episodes, reachability."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.alerts.delivery.health.domain import (
    HealthRules,
    reachable,
    recovered,
    state,
    to_warn,
    warning_id,
    working,
)
from services.alerts.delivery.messages.mail import email_text, ping_text
from tests.unit.alerts.test_adapters import VIEW

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
RULES = HealthRules(failing_after=3, key_warn_s=14 * 86400)


def row(**kw: Any) -> dict[str, Any]:
    base = {
        "key_expires_at": None,
        "disabled_at": None,
        "consecutive_failures": 0,
        "last_success_at": None,
        "last_failure_at": None,
    }
    return base | kw


def test_a_contact_never_tried_is_unknown_and_one_that_delivered_is_ok() -> None:
    assert state(row(), RULES, NOW) == "unknown"
    assert state(row(last_success_at=NOW), RULES, NOW) == "ok"


@pytest.mark.parametrize(("failures", "expected"), [(1, "ok"), (2, "ok"), (3, "failing")])
def test_failing_after_n_consecutive_failures(failures: int, expected: str) -> None:
    tried = row(last_failure_at=NOW, consecutive_failures=failures)
    assert state(tried, RULES, NOW) == expected


def test_a_disabled_endpoint_is_failing() -> None:
    assert state(row(disabled_at=NOW, last_success_at=NOW), RULES, NOW) == "failing"


def test_key_expiry_counts_from_the_clock_and_outranks_failures() -> None:
    soon, later = NOW + timedelta(days=10), NOW + timedelta(days=30)
    assert state(row(key_expires_at=later, last_success_at=NOW), RULES, NOW) == "ok"
    assert state(row(key_expires_at=soon), RULES, NOW) == "key_expiring"
    assert state(row(key_expires_at=NOW, consecutive_failures=9), RULES, NOW) == "key_expired"
    # SQLite hands back naive times: they are UTC.
    naive = (NOW - timedelta(days=1)).replace(tzinfo=None)
    assert state(row(key_expires_at=naive), RULES, NOW) == "key_expired"


def test_one_warning_per_episode_and_again_after_recovery() -> None:
    assert to_warn("failing", None) == "failing"
    assert to_warn("failing", "failing") is None  # the fourth failure warns no more
    assert not recovered("failing", "failing")
    assert recovered("ok", "failing")  # the episode ends; the next failure warns again
    assert to_warn("failing", None) == "failing"
    # A worse problem is a new warning; nothing is warned of while all is well.
    assert to_warn("key_expired", "key_expiring") == "key_expired"
    assert to_warn("ok", None) is None and to_warn("unknown", None) is None
    assert not recovered("key_expiring", "key_expiring")


def test_reachable_needs_one_working_contact_only_while_watching() -> None:
    assert working("ok") and working("unknown") and working("key_expiring")
    assert not working("failing") and not working("key_expired")
    assert reachable(["failing", "ok"], has_entries=True)
    assert not reachable(["failing", "key_expired"], has_entries=True)
    assert not reachable([], has_entries=True)
    assert reachable([], has_entries=False)


def test_warning_keys_are_stable_per_episode() -> None:
    assert warning_id("unreachable", "lawyer-1", 0) == warning_id("unreachable", "lawyer-1", 0)
    assert warning_id("unreachable", "lawyer-1", 0) != warning_id("unreachable", "lawyer-1", 1)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_a_warning_names_the_contact_by_name_or_channel_never_more(language: str) -> None:
    view = dataclasses.replace(
        VIEW,
        kind="contact_warning",
        warning="failing",
        about="webhook",
        label="",
        language=language,
    )
    body = email_text(view, encrypted=False)
    assert "webhook" in body and VIEW.label not in body
    named = email_text(dataclasses.replace(view, label="office hook"), encrypted=True)
    assert "office hook (webhook)" in named
    lost = dataclasses.replace(view, warning="unreachable", about="lawyer-7")
    assert "lawyer-7" in email_text(lost, encrypted=False)
    assert ping_text(view).startswith("Lifeline") and "webhook" not in ping_text(view)
