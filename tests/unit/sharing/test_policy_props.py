"""Properties of the policy engine that must hold for every policy, reader and report."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from libs.common.reports import CATALOGUE as REPORT_FIELDS
from libs.common.reports import IncidentType, LegalBasis, Tlp
from services.sharing.vault.policy.document import diff_policies, dump_policy, parse_policy
from services.sharing.vault.policy.domain import (
    GRANTABLE_TLP,
    Grant,
    Policy,
    Reader,
    ReportGrant,
    ReportMeta,
    candidate_filter,
    decide,
    readable,
)
from services.sharing.vault.policy.explain import explain

FIELDS = REPORT_FIELDS.grantable
CATALOGUE = readable(REPORT_FIELDS)
PARTNERS = ["ngo-a", "ngo-b", "ngo-c"]
ROLES = [None, "lawyer", "reader"]
COUNTRIES = ["KG", "KZ", "RU", "GE", "DE"]
REPORT_IDS = ["r1", "r2", "r3"]

partners = st.sampled_from(PARTNERS)
roles = st.sampled_from(ROLES)
field_sets = st.frozensets(st.sampled_from(FIELDS), min_size=1)


def scope(values: list[Any]) -> st.SearchStrategy[frozenset[Any] | None]:
    """None (`*`) or a non-empty subset."""
    return st.none() | st.frozensets(st.sampled_from(values), min_size=1)


readers = st.builds(Reader, partners, roles)
reports = st.builds(
    ReportMeta,
    report_id=st.sampled_from(REPORT_IDS),
    partner=partners,
    incident_type=st.sampled_from(IncidentType),
    legal_basis=st.sampled_from(LegalBasis),
    country=st.sampled_from(COUNTRIES),
    tlp=st.sampled_from(Tlp),
)
grants = st.builds(
    Grant,
    id=st.sampled_from(["g1", "g2", "g3", "g4"]),
    fields=field_sets,
    sources=scope(PARTNERS),
    incident_types=scope(list(IncidentType)),
    countries=scope(COUNTRIES),
    legal_bases=scope(list(LegalBasis)),
    max_tlp=st.sampled_from(GRANTABLE_TLP),
)
policies = st.builds(
    Policy,
    partner=partners,
    role=roles,
    grants=st.lists(grants, max_size=4, unique_by=lambda g: g.id).map(tuple),
)
report_grants = st.builds(
    ReportGrant,
    id=st.sampled_from(["rg1", "rg2"]),
    report_id=st.sampled_from(REPORT_IDS),
    partner=partners,
    fields=field_sets,
    role=roles,
)
policy_lists = st.lists(policies, max_size=4)
report_grant_lists = st.lists(report_grants, max_size=3)


@given(readers, reports, policy_lists)
def test_default_deny_only_the_submitter_sees_a_report_nobody_granted(
    reader: Reader, report: ReportMeta, policies: list[Policy]
) -> None:
    others = [p for p in policies if p.partner != reader.partner]  # policies of other partners
    decision = decide(reader, report, others, [])
    assert decision.visible is (reader.partner == report.partner)
    assert decision.fields == (CATALOGUE if decision.visible else frozenset())


@given(readers, reports, policy_lists, report_grant_lists, policies, report_grants)
def test_adding_a_grant_never_hides_a_field(
    reader: Reader,
    report: ReportMeta,
    policies: list[Policy],
    rgrants: list[ReportGrant],
    extra: Policy,
    extra_rg: ReportGrant,
) -> None:
    before = decide(reader, report, policies, rgrants)
    after = decide(reader, report, [*policies, extra], [*rgrants, extra_rg])
    assert before.fields <= after.fields
    assert set(before.matched) <= set(after.matched)


@given(readers, reports, policy_lists, report_grant_lists)
def test_red_leaves_its_submitter_only_through_a_per_report_grant(
    reader: Reader, report: ReportMeta, policies: list[Policy], rgrants: list[ReportGrant]
) -> None:
    red = ReportMeta(
        report.report_id, report.partner, report.incident_type, report.legal_basis,
        report.country, Tlp.RED,
    )  # fmt: skip
    decision = decide(reader, red, policies, rgrants)
    if reader.partner != red.partner:
        explicit = [g for g in rgrants if g.applies_to(reader, red)]
        assert decision.fields == frozenset().union(*(g.fields for g in explicit))
        assert all(m.startswith("report-grant:") for m in decision.matched)


@given(readers, reports, policy_lists, report_grant_lists)
def test_visible_means_at_least_one_field_and_fields_split_the_catalogue(
    reader: Reader, report: ReportMeta, policies: list[Policy], rgrants: list[ReportGrant]
) -> None:
    decision = decide(reader, report, policies, rgrants)
    assert decision.visible is bool(decision.fields)
    assert decision.fields | decision.withheld == CATALOGUE
    assert not decision.fields & decision.withheld
    assert decision.visible or not decision.matched


@given(readers, reports, policy_lists, report_grant_lists)
def test_sql_prefilter_selects_exactly_the_visible_reports(
    reader: Reader, report: ReportMeta, policies: list[Policy], rgrants: list[ReportGrant]
) -> None:
    # A report the filter drops would be invisible in listings; one it keeps wastes a decryption.
    filt = candidate_filter(reader, policies, rgrants)
    assert filt.matches(report) is decide(reader, report, policies, rgrants).visible


@given(readers, reports, policy_lists, report_grant_lists, st.sampled_from(FIELDS))
def test_explain_agrees_with_decide(
    reader: Reader,
    report: ReportMeta,
    policies: list[Policy],
    rgrants: list[ReportGrant],
    field: str,
) -> None:
    lines = explain(reader, report, field, policies, rgrants)
    visible = field in decide(reader, report, policies, rgrants).fields
    assert (" can see " in lines[0]) is visible
    allowing = [line for line in lines[1:] if line.endswith(": allows it")]
    assert bool(allowing) is (visible and reader.partner != report.partner)


@settings(max_examples=200)
@given(policies)
def test_document_round_trip(policy: Policy) -> None:
    doc = dump_policy(policy)
    assert parse_policy(doc) == policy
    assert dump_policy(parse_policy(doc)) == doc
    assert diff_policies(policy, parse_policy(doc)) == []


@given(policies, policies)
def test_diff_is_empty_only_for_equal_policies(old: Policy, new: Policy) -> None:
    assert (diff_policies(old, new) == []) is (old == new)
