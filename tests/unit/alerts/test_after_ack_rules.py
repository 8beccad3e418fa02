"""Pure rules after an acknowledgement: when resolve reminders fall due, who "the same person"
is for "not my client", the false-match share, and when a reminder is no longer sent."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from services.alerts.alerts.domain import (
    ReminderPolicy,
    false_match_share,
    person_key,
    reminder_due,
)
from services.alerts.delivery.domain import SendContext, skip_reason
from services.alerts.delivery.messages.mail import email_text, ping_text
from tests.unit.alerts.test_adapters import VIEW

ACKED = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def _at(policy: ReminderPolicy, nth: int) -> datetime | None:
    return reminder_due(ACKED, policy, nth, 60.0)


def test_reminders_come_after_n_then_every_r_up_to_the_cap() -> None:
    policy = ReminderPolicy(after_min=120, repeat_min=60, max_reminders=3)
    assert [_at(policy, n) for n in (1, 2, 3)] == [
        ACKED + timedelta(hours=2),
        ACKED + timedelta(hours=3),
        ACKED + timedelta(hours=4),
    ]
    assert _at(policy, 4) is None and _at(policy, 0) is None


def test_no_repeat_means_one_reminder_and_no_cap_means_none() -> None:
    once = ReminderPolicy(after_min=30, repeat_min=0, max_reminders=5)
    assert once.limit == 1
    assert _at(once, 1) == ACKED + timedelta(minutes=30) and _at(once, 2) is None
    never = ReminderPolicy(after_min=30, repeat_min=10, max_reminders=0)
    assert _at(never, 1) is None


def test_minutes_follow_the_escalation_minute() -> None:
    policy = ReminderPolicy(after_min=2, repeat_min=1, max_reminders=2)
    assert reminder_due(ACKED, policy, 2, 0.5) == ACKED + timedelta(seconds=1.5)


def test_the_same_person_is_the_same_matched_tokens() -> None:
    entry = ["n1", "n2", "d1", "d2"]
    first = person_key(["n1", "d1", "x9"], entry)
    # Order and tokens the entry does not hold do not matter...
    assert person_key(["x7", "d1", "n1"], entry) == first
    # ...but matching on other tokens, or on fewer or more of them, is someone else.
    assert person_key(["n1"], entry) != first
    assert person_key(["n1", "d1", "d2"], entry) != first
    assert person_key(["n2", "d1"], entry) != first
    assert len(first) == 64  # a digest: no token value is stored twice


@pytest.mark.parametrize(
    ("counts", "share"),
    [
        ({}, None),
        ({"released": 0}, None),
        ({"not_my_client": 1, "released": 3}, 0.25),
        ({"not_my_client": 1, "other": 2}, 0.3333),
        ({"not_my_client": 2}, 1.0),
    ],
)
def test_the_false_match_share(counts: dict[str, int], share: float | None) -> None:
    assert false_match_share(counts) == share


def _ctx(kind: str, status: str) -> SendContext:
    values = {f.name: None for f in dataclasses.fields(SendContext)}
    values |= {"kind": kind, "alert_status": status, "address": "https://x.example/h"}
    return SendContext(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("status", "skip"),
    [
        ("acknowledged", None),
        ("resolved", "skip:alert_resolved"),
        ("open", "skip:alert_open"),  # re-opened: escalation pages instead
        ("withdrawn", "skip:alert_withdrawn"),
    ],
)
def test_a_reminder_goes_out_only_while_the_alert_is_acknowledged(
    status: str, skip: str | None
) -> None:
    assert skip_reason(_ctx("resolve_reminder", status)) == skip


def test_a_reminder_says_nothing_about_the_case() -> None:
    view = dataclasses.replace(VIEW, kind="resolve_reminder", language="ru")
    for encrypted in (False, True):
        body = email_text(view, encrypted=encrypted)
        assert view.alert_id in body and view.alert_url in body
        for detail in (view.label, view.reason, view.country, view.facility_kind):
            assert detail not in body
    assert "не закрыто" in ping_text(view)
