"""The policy engine: who sees which fields of which report, why, and what SQL may pre-select."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from libs.common.errors import InvalidInput
from libs.common.reports import CATALOGUE as REPORT_FIELDS
from libs.common.reports import IncidentType, LegalBasis, Tlp
from services.sharing.vault.policy.domain import (
    Clause,
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

CATALOGUE = readable(REPORT_FIELDS)  # every field a policy can grant
A, B, C = "ngo-a", "ngo-b", "ngo-c"
BASIC = frozenset({"incident_type", "place.country"})
REPORT = ReportMeta(
    report_id="r1",
    partner=A,
    incident_type=IncidentType.DETENTION,
    legal_basis=LegalBasis.CIS_INTERSTATE_SEARCH,
    country="KG",
    tlp=Tlp.AMBER,
)


def grant(**kw: Any) -> Grant:
    """Partner B's usual grant: incident type + country of detentions in KG/KZ up to AMBER."""
    base: dict[str, Any] = {
        "id": "g1",
        "fields": BASIC,
        "sources": None,
        "incident_types": frozenset({IncidentType.DETENTION}),
        "countries": frozenset({"KG", "KZ"}),
        "legal_bases": None,
        "max_tlp": Tlp.AMBER,
    }
    return Grant(**(base | kw))


def policy(*grants: Grant, partner: str = B, role: str | None = None) -> Policy:
    return Policy(partner=partner, role=role, grants=grants or (grant(),))


def rgrant(**kw: Any) -> ReportGrant:
    base: dict[str, Any] = {"id": "rg1", "report_id": "r1", "partner": B, "fields": BASIC}
    return ReportGrant(**(base | kw))


def report(**kw: Any) -> ReportMeta:
    return replace(REPORT, **kw)


G1 = "policy:ngo-b/*:g1"
NARRATIVE = frozenset({"narrative"})

# (reader, report, policies, report grants, visible fields or None for "no report at all", matched)
Case = tuple[Reader, ReportMeta, list[Policy], list[ReportGrant], Any, tuple[str, ...]]
DECIDE_CASES: dict[str, Case] = {
    "submitter reads everything": (Reader(A), REPORT, [], [], CATALOGUE, ()),
    "submitter reads everything whatever the role": (
        Reader(A, "lawyer"), report(tlp=Tlp.RED), [], [], CATALOGUE, ()),
    "default deny: no policy": (Reader(B), REPORT, [], [], None, ()),
    "matching grant": (Reader(B), REPORT, [policy()], [], BASIC, (G1,)),
    "another partner's policy gives B nothing": (
        Reader(B), REPORT, [policy(partner=C)], [], None, ()),
    "source partner not in grant": (
        Reader(B), REPORT, [policy(grant(sources=frozenset({C})))], [], None, ()),
    "source partner in grant": (
        Reader(B), REPORT, [policy(grant(sources=frozenset({A, C})))], [], BASIC, (G1,)),
    "incident type not in grant": (
        Reader(B), report(incident_type=IncidentType.DEPORTATION), [policy()], [], None, ()),
    "country not in grant": (Reader(B), report(country="RU"), [policy()], [], None, ()),
    "legal basis not in grant": (
        Reader(B), REPORT,
        [policy(grant(legal_bases=frozenset({LegalBasis.INTERPOL_RED_NOTICE})))], [], None, ()),
    "TLP above max": (Reader(B), report(tlp=Tlp.AMBER_STRICT), [policy()], [], None, ()),
    "TLP below max": (Reader(B), report(tlp=Tlp.CLEAR), [policy()], [], BASIC, (G1,)),
    "RED beats the widest standing grant": (
        Reader(B), report(tlp=Tlp.RED), [policy(grant(max_tlp=Tlp.AMBER_STRICT))], [], None, ()),
    "RED through a per-report grant only": (
        Reader(B), report(tlp=Tlp.RED), [policy(grant(max_tlp=Tlp.AMBER_STRICT))],
        [rgrant(fields=NARRATIVE)], NARRATIVE, ("report-grant:rg1",)),
    "per-report grant of another report": (
        Reader(B), report(tlp=Tlp.RED), [], [rgrant(report_id="r2")], None, ()),
    "per-report grant to another partner": (
        Reader(B), report(tlp=Tlp.RED), [], [rgrant(partner=C)], None, ()),
    "per-report grant to another role": (
        Reader(B, "analyst"), REPORT, [], [rgrant(role="lawyer")], None, ()),
    "per-report grant to the reader's role": (
        Reader(B, "lawyer"), REPORT, [], [rgrant(role="lawyer")], BASIC, ("report-grant:rg1",)),
    "role policy applies to its role": (
        Reader(B, "lawyer"), REPORT, [policy(role="lawyer")], [], BASIC, ("policy:ngo-b/lawyer:g1",)),
    "role policy does not apply to another role": (
        Reader(B, "analyst"), REPORT, [policy(role="lawyer")], [], None, ()),
    "role policy does not apply to a client without a role": (
        Reader(B), REPORT, [policy(role="lawyer")], [], None, ()),
    "partner-wide policy applies to every role": (
        Reader(B, "analyst"), REPORT, [policy()], [], BASIC, (G1,)),
    "union over grants and policies": (
        Reader(B, "lawyer"), REPORT,
        [policy(), policy(grant(id="g2", fields=NARRATIVE), role="lawyer")], [],
        BASIC | NARRATIVE, (G1, "policy:ngo-b/lawyer:g2")),
    "union of a standing and a per-report grant": (
        Reader(B), REPORT, [policy()], [rgrant(fields=NARRATIVE)], BASIC | NARRATIVE,
        (G1, "report-grant:rg1")),
    "only matching grants count": (
        Reader(B), REPORT, [policy(grant(), grant(id="g2", fields=NARRATIVE, countries=None,
                                                  max_tlp=Tlp.GREEN))], [], BASIC, (G1,)),
}  # fmt: skip


@pytest.mark.parametrize(
    ("reader", "meta", "policies", "grants", "fields", "matched"),
    DECIDE_CASES.values(),
    ids=DECIDE_CASES.keys(),
)
def test_decide(
    reader: Reader,
    meta: ReportMeta,
    policies: list[Policy],
    grants: list[ReportGrant],
    fields: frozenset[str] | None,
    matched: tuple[str, ...],
) -> None:
    decision = decide(reader, meta, policies, grants)
    assert decision.visible is (fields is not None)
    assert decision.fields == (fields or frozenset())
    assert decision.withheld == CATALOGUE - decision.fields
    assert decision.matched == matched
    assert decision.submitter is (reader.partner == meta.partner)


# (reader, report, field, policies, report grants, expected verdict, a line that must appear)
EXPLAIN_CASES: dict[str, tuple[Reader, ReportMeta, str, list[Policy], list[ReportGrant], str, str]] = {
    "allowed": (Reader(B), REPORT, "place.country", [policy()], [], "can", f"{G1}: allows it"),
    "submitter": (Reader(A), REPORT, "narrative", [], [], "can", "submitted the report"),
    "nothing at all": (Reader(B), REPORT, "narrative", [], [], "cannot", "default deny"),
    "field not granted": (
        Reader(B), REPORT, "narrative", [policy()], [], "cannot", f"{G1}: field narrative not granted"),
    "wrong source": (
        Reader(B), REPORT, "place.country", [policy(grant(sources=frozenset({C, "ngo-d"})))], [],
        "cannot", "source partner ngo-a not in {ngo-c, ngo-d}"),
    "incident type": (
        Reader(B), report(incident_type=IncidentType.ABDUCTION), "place.country", [policy()], [],
        "cannot", "incident type abduction not in {detention}"),
    "country": (
        Reader(B), report(country="RU"), "place.country", [policy()], [], "cannot",
        "country RU not in {KG, KZ}"),
    "legal basis": (
        Reader(B), REPORT, "place.country",
        [policy(grant(legal_bases=frozenset({LegalBasis.ADMINISTRATIVE})))], [], "cannot",
        "legal basis cis_interstate_search not in {administrative}"),
    "TLP above max": (
        Reader(B), report(tlp=Tlp.AMBER_STRICT), "place.country", [policy()], [], "cannot",
        "TLP AMBER+STRICT is above the grant's max AMBER"),
    "RED": (
        Reader(B), report(tlp=Tlp.RED), "place.country", [policy()], [], "cannot",
        "report is TLP:RED: only the submitter and per-report grants see it"),
    "role mismatch": (
        Reader(B, "analyst"), REPORT, "place.country", [policy(role="lawyer")], [], "cannot",
        "role mismatch: the policy is for role lawyer, the reader has role analyst"),
    "several failures at once": (
        Reader(B), report(country="RU", tlp=Tlp.RED), "narrative", [policy()], [], "cannot",
        f"{G1}: report is TLP:RED: only the submitter and per-report grants see it; "
        "country RU not in {KG, KZ}; field narrative not granted"),
    "RED through a per-report grant": (
        Reader(B), report(tlp=Tlp.RED), "narrative", [policy()], [rgrant(fields=NARRATIVE)], "can",
        "report-grant:rg1: allows it"),
    "per-report grant without the field": (
        Reader(B), REPORT, "narrative", [], [rgrant()], "cannot",
        "report-grant:rg1: field narrative not granted"),
    "per-report grant for another role": (
        Reader(B), REPORT, "place.country", [], [rgrant(role="lawyer")], "cannot",
        "report-grant:rg1: role mismatch: the grant is for role lawyer"),
    "no visible field means 404": (
        Reader(B), report(country="RU"), "place.country", [policy()], [], "cannot",
        "no field is visible, so the report does not exist for this reader (404)"),
}  # fmt: skip


@pytest.mark.parametrize(
    ("reader", "meta", "field", "policies", "grants", "verdict", "line"),
    EXPLAIN_CASES.values(),
    ids=EXPLAIN_CASES.keys(),
)
def test_explain(
    reader: Reader,
    meta: ReportMeta,
    field: str,
    policies: list[Policy],
    grants: list[ReportGrant],
    verdict: str,
    line: str,
) -> None:
    lines = explain(reader, meta, field, policies, grants)
    assert lines[0].startswith(f"partner {reader.partner}")
    assert lines[0].endswith(f"{verdict} see {field} of report {meta.report_id}")
    assert any(line in candidate for candidate in lines[1:]), lines


def test_explain_lists_every_candidate_grant_but_not_other_partners() -> None:
    policies = [
        policy(grant(), grant(id="g2", countries=frozenset({"RU"}))),
        policy(grant(id="c1"), partner=C),
    ]
    lines = explain(Reader(B), REPORT, "incident_type", policies)
    assert lines == [
        "partner ngo-b can see incident_type of report r1",
        f"{G1}: allows it",
        "policy:ngo-b/*:g2: country KG not in {RU}",
    ]


def test_explain_rejects_a_field_outside_the_catalogue() -> None:
    with pytest.raises(InvalidInput) as err:
        explain(Reader(B), REPORT, "name", [policy()])
    assert err.value.fields == [{"path": "field", "reason": "not a field"}]


def test_candidate_filter_turns_each_applicable_grant_into_a_clause() -> None:
    policies = [
        policy(grant(), grant(id="g2", fields=NARRATIVE)),  # same conditions: one clause
        policy(grant(id="g3", max_tlp=Tlp.AMBER_STRICT, countries=None), role="lawyer"),
        policy(grant(id="g4", max_tlp=Tlp.CLEAR), role="analyst"),
        policy(grant(id="c1"), partner=C),
    ]
    grants = [rgrant(), rgrant(id="rg2", report_id="r2", role="lawyer"), rgrant(id="x", partner=C)]
    grants.append(rgrant(id="rg3", report_id="r3", role="analyst"))
    filt = candidate_filter(Reader(B, "lawyer"), policies, grants)
    detention = frozenset({IncidentType.DETENTION})
    assert filt.own_partner == B
    assert filt.report_ids == {"r1", "r2"}
    assert filt.clauses == (
        Clause(None, detention, frozenset({"KG", "KZ"}), None,
               frozenset({Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER})),
        Clause(None, detention, None, None,
               frozenset({Tlp.CLEAR, Tlp.GREEN, Tlp.AMBER, Tlp.AMBER_STRICT})),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("meta", "expected"),
    [
        (REPORT, True),
        (report(partner=B, country="RU", tlp=Tlp.RED), True),  # own report
        (report(report_id="r2", tlp=Tlp.RED), True),  # explicitly granted
        (report(report_id="r9", tlp=Tlp.RED), False),
        (report(report_id="r9", country="RU"), False),
        (report(report_id="r9", tlp=Tlp.AMBER_STRICT), False),
    ],
)
def test_filter_matches_like_the_where_clause(meta: ReportMeta, expected: bool) -> None:
    filt = candidate_filter(Reader(B), [policy()], [rgrant(report_id="r2")])
    assert filt.matches(meta) is expected


def test_reader_without_grants_gets_only_own_reports() -> None:
    filt = candidate_filter(Reader(B), [policy(partner=C)])
    assert (filt.report_ids, filt.clauses) == (frozenset(), ())


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: grant(max_tlp=Tlp.RED), "RED"),
        (lambda: grant(fields=frozenset()), "no field"),
        (lambda: grant(fields=frozenset({"name"})), "outside the catalogue"),
        (lambda: rgrant(fields=frozenset()), "no field"),
        (lambda: rgrant(fields=frozenset({"received_at"})), "outside the catalogue"),
        (lambda: policy(grant(), grant()), "unique"),
    ],
    ids=["red", "no-fields", "unknown-field", "rg-no-fields", "rg-unknown-field", "dup-ids"],
)
def test_objects_built_in_code_keep_the_invariants(build: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        build()


def test_policy_equality_ignores_grant_order() -> None:
    g1, g2 = grant(), grant(id="g2", fields=NARRATIVE)
    assert policy(g1, g2) == policy(g2, g1)


def test_red_stays_closed_even_for_a_grant_that_slipped_past_validation() -> None:
    # Defence in depth: a tampered or hand-built object must still not open RED.
    forged = grant(max_tlp=Tlp.AMBER_STRICT)
    object.__setattr__(forged, "max_tlp", Tlp.RED)
    object.__setattr__(forged, "tlp_ceiling", 99)
    assert not decide(Reader(B), report(tlp=Tlp.RED), [policy(forged)]).visible


def test_a_report_row_with_plain_strings_is_still_red() -> None:
    # The repository may build ReportMeta from a row of strings; RED must still be RED.
    row = ReportMeta("r1", A, "detention", "unknown", "KG", "RED")  # type: ignore[arg-type]
    assert row.tlp is Tlp.RED
    assert not decide(Reader(B), row, [policy(grant(max_tlp=Tlp.AMBER_STRICT))]).visible
    assert any("TLP:RED" in line for line in explain(Reader(B), row, "tlp", [policy()]))
