"""Pure alert rules: entry rules, priority, escalation plan, retry schedule, delivery keys."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.common.identity.keyring import PrfKeyRing, new_seed
from libs.common.identity.tokens import LocalEvaluator, tokenise
from libs.common.reports import IdentityToken
from services.alerts.alerts.domain import Audience, EscalationPolicy, escalation_plan, step_due
from services.alerts.delivery.domain import delivery_id
from services.alerts.delivery.retries import parse_retry_after, retry_delay
from services.alerts.matching.domain import Priority, judge, priority
from services.alerts.watchlists.domain import EntryRule, decode_tokens, valid_watchlist_tokens

KEY = PrfKeyRing().add(1, new_seed())


def _tokens(name: str, dob: str | None) -> list[IdentityToken]:
    from libs.common.crypto.encoding import b64u_encode

    (found,) = tokenise([(name, dob)], LocalEvaluator(KEY), KEY.version)
    return [
        IdentityToken(kind=t.kind.value, version=t.key_version, value=b64u_encode(t.value))
        for t in found
    ]


def test_default_rule_covers_what_gets_people_extradited_on_any_basis() -> None:
    rule = EntryRule()
    for incident in (
        "detention",
        "extradition_request",
        "extradition_decision",
        "deportation",
        "abduction",
    ):
        assert rule.applies(incident, "unknown", "TR")
    for incident in ("entry_refusal", "release", "interrogation", "other"):
        assert not rule.applies(incident, "cis_interstate_search", "KG")


def test_rule_restrictions_and_storage_round_trip() -> None:
    rule = EntryRule(
        frozenset({"detention"}), frozenset({"cis_interstate_search"}), frozenset({"KG", "KZ"})
    )
    assert rule.applies("detention", "cis_interstate_search", "KZ")
    assert not rule.applies("detention", "administrative", "KZ")
    assert not rule.applies("detention", "cis_interstate_search", "GE")
    assert EntryRule.from_columns(**rule.columns()) == rule


@pytest.mark.parametrize(
    ("decision", "basis", "expected"),
    [
        ("strong", "cis_interstate_search", Priority.HIGHEST),
        ("strong", "interpol_red_notice", Priority.HIGHEST),
        ("strong", "interpol_diffusion", Priority.HIGHEST),
        ("possible", "interpol_red_notice", Priority.HIGH),
        ("strong", "administrative", Priority.HIGH),
        ("possible", "unknown", Priority.NORMAL),
    ],
)
def test_interstate_search_and_interpol_are_highest_priority(
    decision: str, basis: str, expected: Priority
) -> None:
    assert priority(decision, basis) == expected


def test_judge_matches_across_scripts_and_never_across_key_versions() -> None:
    entry = decode_tokens(_tokens("Лев Скорякин", "1999-03-14"))
    report = decode_tokens(_tokens("SKORIAKIN LEV", "14.03.1999"))
    verdict = judge(
        entry,
        report,
        EntryRule(),
        incident_type="detention",
        legal_basis="cis_interstate_search",
        country="KG",
    )
    assert (
        verdict is not None
        and verdict.match.strength == "strong"
        and verdict.priority == Priority.HIGHEST
    )
    assert (
        judge(
            entry, report, EntryRule(), incident_type="release", legal_basis="unknown", country="KG"
        )
        is None
    )
    other_key = PrfKeyRing().add(2, new_seed())
    (v2,) = tokenise([("SKORIAKIN LEV", "14.03.1999")], LocalEvaluator(other_key), 2)
    assert (
        judge(
            entry,
            list(v2),
            EntryRule(),
            incident_type="detention",
            legal_basis="unknown",
            country="KG",
        )
        is None
    )
    namesake = decode_tokens(_tokens("Lev Skoryakin", "1990-01-01"))
    assert (
        judge(
            entry,
            namesake,
            EntryRule(),
            incident_type="detention",
            legal_basis="unknown",
            country="KG",
        )
        is None
    )


def test_tokens_a_watchlist_accepts() -> None:
    assert valid_watchlist_tokens(_tokens("Лев Скорякин", "1999-03-14"))
    unknown = IdentityToken(kind="full_dob", version=1, value="A" * 86)
    assert not valid_watchlist_tokens([unknown])
    short = IdentityToken(kind="name_dob", version=1, value="A" * 20)
    assert not valid_watchlist_tokens([short])


def test_escalation_plan_backups_after_n_duty_after_m_then_capped_repeats() -> None:
    plan = escalation_plan(
        EscalationPolicy(
            escalate_after_min=10, duty_after_min=30, repeat_every_min=15, max_repeats=2
        )
    )
    assert [(s.offset_min, sorted(s.audiences)) for s in plan] == [
        (10, ["backup", "lawyer"]),
        (30, ["backup", "duty", "lawyer"]),
        (45, ["backup", "duty", "lawyer"]),
        (60, ["backup", "duty", "lawyer"]),
    ]
    # Duty first when M < N; one step when they coincide.
    early = escalation_plan(EscalationPolicy(10, 5, 5, 0))
    assert [(s.offset_min, sorted(s.audiences)) for s in early] == [
        (5, ["duty", "lawyer"]),
        (10, ["backup", "duty", "lawyer"]),
    ]
    same = escalation_plan(EscalationPolicy(5, 5, 5, 0))
    assert [s.audiences for s in same] == [frozenset(Audience)]


def test_step_due_counts_minutes_in_configured_seconds() -> None:
    plan = escalation_plan(EscalationPolicy(1, 2, 1, 1))
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    assert step_due(t0, plan, 1, 60) == t0 + timedelta(minutes=1)
    assert step_due(t0, plan, 2, 0.5) == t0 + timedelta(seconds=1)
    assert step_due(t0, plan, 4, 60) is None


@given(failures=st.integers(min_value=1, max_value=100), seed=st.integers())
def test_retry_delays_follow_the_schedule_within_the_jitter(failures: int, seed: int) -> None:
    schedule = (1.0, 2.0, 4.0, 8.0)
    delay = retry_delay(failures, schedule, 0.2, rng=random.Random(seed))
    base = schedule[min(failures, len(schedule)) - 1]
    assert base * 0.8 <= delay <= base * 1.2


def test_retry_after_wins_over_a_shorter_schedule_and_is_capped() -> None:
    assert retry_delay(1, (0.2,), 0.0, retry_after=30) == 30
    assert retry_delay(1, (0.2,), 0.0, retry_after=10**9) == 3600
    now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after("Thu, 01 Jan 2026 12:01:00 GMT", now) == 60
    assert parse_retry_after("soon", now) is None and parse_retry_after(None, now) is None


def test_the_delivery_key_is_stable_and_distinct_per_step_channel_and_endpoint() -> None:
    key = delivery_id("a1", 0, "webhook", "c1")
    assert key == delivery_id("a1", 0, "webhook", "c1")
    others = {
        delivery_id("a1", 1, "webhook", "c1"),
        delivery_id("a1", 0, "email", "c1"),
        delivery_id("a1", 0, "webhook", "c2"),
        delivery_id("a2", 0, "webhook", "c1"),
    }
    assert key not in others and len(others) == 4
